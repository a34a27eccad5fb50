//! The clauses of a view's SELECT around its expressions: FROM (tables,
//! views, aliases, joins), GROUP BY and ORDER BY terms, LIMIT, and the
//! check for bare columns beside aggregates.

use super::{is_keyword, word_of, Catalog, Class, Clause, Ctx, Entry, Tx, R};
use crate::pg::ident::quote;
use crate::sqlite::sql::lexer::{matching_paren, split_commas, Tok};

/// The words that join relations, each written as PostgreSQL's.
const JOIN_WORDS: &[&str] = &["left", "right", "full", "inner", "cross", "join", "outer"];

/// A join word as the translation writes it (spaces are folded at the end).
fn join_word(kw: &str) -> String {
    let mut s = format!(" {} ", kw.to_ascii_uppercase()).replace("  ", " ");
    if kw == "join" {
        s.push(' ');
    }
    s
}

impl<'c> Tx<'_, 'c> {
    /// The FROM clause `toks[a..b]`: table and view references with
    /// aliases, joined by commas or JOIN … ON/USING. The relations are read
    /// first and the ON conditions translated last, once every relation
    /// they may name is in scope.
    pub(super) fn from(&mut self, a: usize, b: usize, cat: &'c Catalog) -> R<String> {
        let mut out = String::new();
        // Where each ON condition goes in `out`, and its tokens.
        let mut ons: Vec<(usize, usize, usize)> = Vec::new();
        let mut using = false;
        let mut k = a;
        while k < b {
            let t = &self.toks[k];
            k = if t.is_op(",") {
                out.push_str(", ");
                k + 1
            } else if t.is_word("natural") {
                return Err("NATURAL JOIN is not translated (it joins on the columns' names, which the mapping may rename)".into());
            } else if let Some(kw) = JOIN_WORDS.iter().find(|w| t.is_word(w)) {
                out.push_str(&join_word(kw));
                k + 1
            } else if t.is_word("on") {
                let end = self.on_end(k + 1, b);
                out.push_str(" ON ");
                ons.push((out.len(), k + 1, end));
                end
            } else if t.is_word("using") {
                using = true;
                let (columns, next) = self.using_columns(k)?;
                out.push_str(&columns);
                next
            } else {
                let (relation, next) = self.relation(k, b, cat)?;
                out.push_str(&relation);
                next
            };
        }
        if using
            && self.toks[..b]
                .iter()
                .any(|t| t.is_word("right") || t.is_word("full"))
        {
            return Err("RIGHT or FULL JOIN with USING is not translated".into());
        }
        self.insert_on_conditions(&mut out, &ons)?;
        Ok(out.split_whitespace().collect::<Vec<_>>().join(" "))
    }

    /// Where the ON condition starting at `k` ends: at the next comma or
    /// join keyword.
    fn on_end(&self, k: usize, b: usize) -> usize {
        (k..b)
            .find(|&j| {
                let t = &self.toks[j];
                t.is_op(",")
                    || ["left", "right", "full", "inner", "cross", "join", "natural"]
                        .iter()
                        .any(|w| t.is_word(w))
            })
            .unwrap_or(b)
    }

    /// `USING (a, b)` at `k`: the columns by their target names (each must
    /// have one in both tables joined), and the token after it.
    fn using_columns(&self, k: usize) -> R<(String, usize)> {
        if !self.toks.get(k + 1).is_some_and(|t| t.is_op("(")) {
            return Err("USING without a column list".into());
        }
        let close = matching_paren(self.toks, k + 1).ok_or("unbalanced parentheses")?;
        let mut cols = Vec::new();
        for (x, y) in split_commas(self.toks, k + 2, close) {
            let name = word_of(&self.toks[x]).filter(|_| y == x + 1);
            let name = name.ok_or("USING with something other than column names")?;
            let n = self.scope.len();
            let targets: Vec<String> = self.scope[n.saturating_sub(2)..]
                .iter()
                .filter_map(|e| {
                    e.rel
                        .columns
                        .iter()
                        .find(|c| c.source.eq_ignore_ascii_case(&name))
                })
                .map(|c| c.target.clone().unwrap_or_default())
                .collect();
            if targets.len() != 2 || targets[0].is_empty() || targets[0] != targets[1] {
                return Err(format!(
                    "USING ({name}): the column is not moved under one name in both tables"
                ));
            }
            cols.push(quote(&targets[0]));
        }
        Ok((format!(" USING ({})", cols.join(", ")), close + 1))
    }

    /// A relation at `k`: `[main.]name [[AS] alias]`, put in scope. Returns
    /// its translation and the token after it.
    fn relation(&mut self, k: usize, b: usize, cat: &'c Catalog) -> R<(String, usize)> {
        let (name, mut j) = self.relation_name(k)?;
        let rel = cat.find(&name).ok_or_else(|| {
            if cat.not_moved.iter().any(|t| t.eq_ignore_ascii_case(&name)) {
                format!("it reads table `{name}`, which the mapping does not move")
            } else {
                format!("it reads `{name}`, which is neither a table of the mapping nor a view")
            }
        })?;
        j += 1;
        let mut alias = None;
        if self.toks.get(j).is_some_and(|t| t.is_word("as")) {
            j += 1;
            alias = Some(
                self.toks
                    .get(j)
                    .and_then(word_of)
                    .ok_or("AS without an alias")?,
            );
            j += 1;
        } else if let Some(w) = self.toks.get(j).filter(|_| j < b).and_then(word_of) {
            if !matches!(&self.toks[j].tok, Tok::Word(x) if is_keyword(x)) {
                alias = Some(w);
                j += 1;
            }
        }
        if self
            .toks
            .get(j)
            .is_some_and(|t| t.is_word("indexed") || t.is_word("not"))
        {
            return Err("INDEXED BY / NOT INDEXED is not translated".into());
        }
        if rel.is_view && !self.views_used.contains(&rel.source) {
            self.views_used.push(rel.source.clone());
        }
        let mut out = quote(&rel.target);
        if let Some(a) = &alias {
            out.push_str(&format!(" AS {}", quote(a)));
        }
        let shown = alias.clone().unwrap_or_else(|| rel.target.clone());
        self.scope.push(Entry { rel, alias, shown });
        Ok((out, j))
    }

    /// The name of the relation at `k` (past a `main.` schema) and the
    /// place of its last token; another schema or a table-valued function
    /// is refused.
    fn relation_name(&self, k: usize) -> R<(String, usize)> {
        let mut j = k;
        let mut name = word_of(&self.toks[k])
            .ok_or_else(|| format!("`{}` in FROM is not translated", self.text(k, k + 1)))?;
        if self.toks.get(j + 1).is_some_and(|t| t.is_op(".")) {
            if !name.eq_ignore_ascii_case("main") {
                return Err(format!("a table of schema `{name}` is not moved"));
            }
            j += 2;
            name = self
                .toks
                .get(j)
                .and_then(word_of)
                .ok_or("a schema name without a table")?;
        }
        if self.toks.get(j + 1).is_some_and(|t| t.is_op("(")) {
            return Err(format!("table-valued function `{name}` is not translated"));
        }
        Ok((name, j))
    }

    /// The ON conditions translated into `out` at their places, from the
    /// last so the earlier places stay right.
    fn insert_on_conditions(&mut self, out: &mut String, ons: &[(usize, usize, usize)]) -> R<()> {
        let ctx = Ctx {
            clause: Clause::Where,
            in_agg: false,
            cond: true,
        };
        let mut translated = Vec::new();
        for &(pos, x, y) in ons {
            translated.push((pos, self.expr(x, y, ctx)?));
        }
        for (pos, e) in translated.into_iter().rev() {
            out.insert_str(pos, &e);
        }
        Ok(())
    }

    /// GROUP BY term (a column, an output alias, a position, an expression).
    pub(super) fn order_term(&mut self, a: usize, b: usize, ctx: Ctx, _limit: bool) -> R<String> {
        if b == a + 1 {
            if let Tok::Num(n) = &self.toks[a].tok {
                return Ok(n.clone());
            }
            if let Some(name) = word_of(&self.toks[a]) {
                let alias = self.aliases.iter().any(|x| x.eq_ignore_ascii_case(&name));
                let column = self.unqualified(&name).is_some();
                if alias && column {
                    return Err(format!(
                        "`{name}` names both an output column and a column of a table"
                    ));
                }
                if alias {
                    return Ok(quote(&name));
                }
            }
        }
        if let Some((e, col)) = self.column_at(a, b)? {
            return Ok(self.emit_column(e, &col, ctx, false)?.0);
        }
        self.expr(a, b, ctx)
    }

    /// ORDER BY item: SQLite sorts NULLs first ascending and text bytewise.
    pub(super) fn order_item(&mut self, a: usize, b: usize, limit: bool) -> R<String> {
        let mut end = b;
        let mut nulls = None;
        if end >= a + 2 && self.toks[end - 2].is_word("nulls") {
            nulls = Some(self.text(end - 2, end).to_ascii_uppercase());
            end -= 2;
        }
        let mut desc = false;
        if end > a && (self.toks[end - 1].is_word("asc") || self.toks[end - 1].is_word("desc")) {
            desc = self.toks[end - 1].is_word("desc");
            end -= 1;
        }
        let ctx = Ctx {
            clause: Clause::OrderBy,
            in_agg: false,
            cond: false,
        };
        let term = match self.column_at(a, end)? {
            Some((e, col)) => {
                let (s, class) = self.emit_column(e, &col, ctx, false)?;
                match class {
                    Class::Text => format!("{s} COLLATE \"C\""),
                    Class::Unknown if limit => {
                        return Err(format!(
                            "ORDER BY `{}` with LIMIT: the translator cannot tell how it sorts \
                             (SQLite sorts text bytewise)",
                            self.text(a, end)
                        ))
                    }
                    _ => s,
                }
            }
            None => {
                if limit {
                    return Err(format!(
                        "ORDER BY `{}` with LIMIT: the translator cannot tell how it sorts \
                         (SQLite sorts text bytewise)",
                        self.text(a, end)
                    ));
                }
                self.order_term(a, end, ctx, limit)?
            }
        };
        let nulls =
            nulls.unwrap_or_else(|| if desc { "NULLS LAST" } else { "NULLS FIRST" }.to_string());
        Ok(format!(
            "{term}{} {nulls}",
            if desc { " DESC" } else { " ASC" }
        ))
    }

    /// `LIMIT n [OFFSET m]` or `LIMIT m, n`.
    pub(super) fn limit(&self, a: usize, b: usize) -> R<String> {
        let int = |k: usize, neg: bool| -> R<i64> {
            match self.toks.get(k).map(|t| &t.tok) {
                Some(Tok::Num(n)) => n
                    .parse::<i64>()
                    .map(|v| if neg { -v } else { v })
                    .map_err(|_| format!("LIMIT `{n}` is not a whole number")),
                _ => Err("LIMIT or OFFSET that is not a number is not translated".into()),
            }
        };
        let mut k = a;
        let num = |k: &mut usize| -> R<i64> {
            let neg = self.toks.get(*k).is_some_and(|t| t.is_op("-"));
            if neg {
                *k += 1;
            }
            let v = int(*k, neg)?;
            *k += 1;
            Ok(v)
        };
        let first = num(&mut k)?;
        let (limit, offset) = if k < b && self.toks[k].is_op(",") {
            k += 1;
            (num(&mut k)?, Some(first))
        } else if k < b && self.toks[k].is_word("offset") {
            k += 1;
            (first, Some(num(&mut k)?))
        } else {
            (first, None)
        };
        if k != b {
            return Err("a LIMIT clause the translator does not know".into());
        }
        if offset.is_some_and(|o| o < 0) {
            return Err("a negative OFFSET is not translated".into());
        }
        let mut s = if limit < 0 {
            " LIMIT ALL".to_string()
        } else {
            format!(" LIMIT {limit}")
        };
        if let Some(o) = offset {
            s.push_str(&format!(" OFFSET {o}"));
        }
        Ok(s)
    }

    /// Bare columns beside aggregates: SQLite picks them from an arbitrary
    /// row of the group; PostgreSQL refuses or answers otherwise.
    pub(super) fn check_bare_columns(&self) -> R<()> {
        let agg = self.aggregate || self.refs.iter().any(|r| r.in_agg);
        if !agg {
            return Ok(());
        }
        let grouped = |e: usize, col: &str| {
            self.refs
                .iter()
                .any(|g| g.clause == Clause::GroupBy && g.entry == e && g.column == col)
        };
        for r in &self.refs {
            if r.in_agg || !matches!(r.clause, Clause::Select | Clause::Having | Clause::OrderBy) {
                continue;
            }
            let pk = &self.scope[r.entry].rel.primary_key;
            let by_pk = !pk.is_empty() && pk.iter().all(|k| grouped(r.entry, k));
            if !grouped(r.entry, &r.column) && !by_pk {
                return Err(format!(
                    "column `{}` stands beside an aggregate without being in GROUP BY \
                     (SQLite takes it from an arbitrary row of the group)",
                    r.column
                ));
            }
        }
        Ok(())
    }
}
