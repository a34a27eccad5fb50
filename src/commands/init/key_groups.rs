//! Key columns typed together, for `init`: a parent key's columns and every
//! column referencing them, transitively, form one group. Each column of a
//! group is typed from the cells of the whole group (a parent `code` with
//! one text code makes its children's codes text too), and when the types
//! chosen still make a foreign key PostgreSQL refuses, the whole group gets
//! the type of its referenced column. So no foreign key is lost to a type
//! mismatch init itself made (docs/mapping.md, "Foreign keys and orphans").

use super::choose::choose_type;
use super::names::TableNames;
use super::profile::{ColumnProfile, Profiles};
use crate::pg::fk_types;
use crate::sqlite::schema::model::SourceSchema;
use std::collections::HashMap;

/// A column: (source table, source column), as the schema spells them.
type Col = (String, String);

/// The foreign-key groups of a source schema.
pub(super) struct KeyGroups {
    /// Each group's columns, the first referenced one first.
    groups: Vec<Vec<Col>>,
    /// Every (child, parent) column pair a foreign key joins.
    edges: Vec<(Col, Col)>,
    /// Groups typed apart (see [`KeyGroups::merged`]), by index.
    apart: Vec<bool>,
}

impl KeyGroups {
    pub(super) fn of(schema: &SourceSchema) -> KeyGroups {
        let mut edges = Vec::new();
        for t in &schema.tables {
            for fk in &t.foreign_keys {
                let Some(parent) = schema.table(&fk.ref_table) else {
                    continue;
                };
                let refs = if fk.ref_columns.is_empty() {
                    &parent.primary_key
                } else {
                    &fk.ref_columns
                };
                if refs.len() != fk.columns.len() {
                    continue;
                }
                for (c, p) in fk.columns.iter().zip(refs) {
                    let (Some(c), Some(p)) = (t.column(c), parent.column(p)) else {
                        continue;
                    };
                    edges.push((
                        (t.name.clone(), c.name.clone()),
                        (parent.name.clone(), p.name.clone()),
                    ));
                }
            }
        }
        let groups = components(&edges);
        KeyGroups {
            apart: vec![false; groups.len()],
            groups,
            edges,
        }
    }

    /// The profiles to type columns by: each group member's profile is the
    /// group's (every member's cells counted together). A group holding a
    /// rowid alias (an identity, integers only) whose cells together are
    /// not all integers is typed apart: only orphans hold the other cells,
    /// and the identity is worth more than the key.
    pub(super) fn merged(&mut self, schema: &SourceSchema, profiles: &Profiles) -> Profiles {
        let mut out = profiles.clone();
        for (g, apart) in self.groups.iter().zip(self.apart.iter_mut()) {
            let mut all = ColumnProfile::default();
            for (t, c) in g {
                if let Some(p) = profiles.get(t).and_then(|tp| tp.get(c)) {
                    all.absorb(p);
                }
            }
            *apart = g.iter().any(|(t, c)| {
                schema.table(t).is_some_and(|st| {
                    st.rowid_alias.as_deref() == Some(c.as_str())
                        && st.column(c).is_some_and(|col| {
                            !choose_type(&col.declared_type, Some(&all), false)
                                .ty
                                .is_integer()
                        })
                })
            });
            if *apart {
                continue;
            }
            for (t, c) in g {
                if let Some(p) = out.get_mut(t).and_then(|tp| tp.get_mut(c)) {
                    *p = all.clone();
                }
            }
        }
        out
    }

    /// After typing with [`merged`]: a group whose types still make a
    /// foreign key PostgreSQL refuses gets its referenced column's type
    /// throughout; and every member typed otherwise than its own cells
    /// would have it is named on the screen.
    pub(super) fn unify(
        &self,
        schema: &SourceSchema,
        own: &Profiles,
        keep_declared: bool,
        names: &mut HashMap<String, TableNames>,
        warnings: &mut Vec<String>,
    ) {
        let ty_of = |names: &HashMap<String, TableNames>, (t, c): &Col| {
            names[t].col(c).filter(|i| i.include).map(|i| i.ty.clone())
        };
        for g in self
            .groups
            .iter()
            .zip(&self.apart)
            .filter(|(_, a)| !**a)
            .map(|(g, _)| g)
        {
            let refused = self.edges.iter().any(|(c, p)| {
                g.contains(p)
                    && match (ty_of(names, c), ty_of(names, p)) {
                        (Some(ct), Some(pt)) => !fk_types::accepts(&pt, &ct),
                        _ => false,
                    }
            });
            if refused {
                if let Some(ty) = ty_of(names, &g[0]) {
                    for (t, c) in g {
                        if let Some(info) = names.get_mut(t).and_then(|n| n.col_mut(c)) {
                            info.ty = ty.clone();
                        }
                    }
                }
            }
            for m in g {
                let (t, c) = m;
                let Some(ty) = ty_of(names, m) else { continue };
                let Some(col) = schema.table(t).and_then(|st| st.column(c)) else {
                    continue;
                };
                let alone = choose_type(
                    &col.declared_type,
                    own.get(t).and_then(|p| p.get(c)),
                    keep_declared,
                )
                .ty;
                if alone != ty && ty != crate::pg::types::PgType::Citext {
                    warnings.push(format!(
                        "`{t}`.`{c}`: {ty}, not {alone} as its own cells alone would have it: \
                         typed together with the key columns it shares values with ({}), \
                         so that the foreign keys between them hold",
                        others(g, m)
                    ));
                }
            }
        }
    }
}

/// The other members of a group, for a warning: three named, then a count.
fn others(g: &[Col], me: &Col) -> String {
    let rest: Vec<String> = g
        .iter()
        .filter(|m| *m != me)
        .map(|(t, c)| format!("`{t}`.`{c}`"))
        .collect();
    if rest.len() <= 3 {
        rest.join(", ")
    } else {
        format!("{}, and {} more", rest[..3].join(", "), rest.len() - 3)
    }
}

/// The connected groups of columns the edges join, each starting with the
/// first referenced column seen, in edge order.
fn components(edges: &[(Col, Col)]) -> Vec<Vec<Col>> {
    let mut index: HashMap<&Col, usize> = HashMap::new();
    let mut cols: Vec<&Col> = Vec::new();
    // Parents first, so a group's first member is a referenced column.
    for col in edges
        .iter()
        .map(|(_, p)| p)
        .chain(edges.iter().map(|(c, _)| c))
    {
        index.entry(col).or_insert_with(|| {
            cols.push(col);
            cols.len() - 1
        });
    }
    let mut parent: Vec<usize> = (0..cols.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for (c, p) in edges {
        let (a, b) = (root(&mut parent, index[c]), root(&mut parent, index[p]));
        if a != b {
            // The smaller index (seen first) stays the root.
            parent[a.max(b)] = a.min(b);
        }
    }
    let mut groups: Vec<Vec<Col>> = Vec::new();
    let mut group_of: HashMap<usize, usize> = HashMap::new();
    for (i, col) in cols.iter().enumerate() {
        let r = root(&mut parent, i);
        let g = *group_of.entry(r).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push((*col).clone());
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(t: &str, c: &str) -> Col {
        (t.into(), c.into())
    }

    #[test]
    fn groups_are_transitive_and_start_with_a_parent() {
        let edges = vec![
            (col("b", "a_id"), col("a", "id")),
            (col("c", "b_a"), col("b", "a_id")),
            (col("y", "x_id"), col("x", "id")),
        ];
        let g = components(&edges);
        assert_eq!(g.len(), 2);
        assert_eq!(g[0][0], col("a", "id"));
        let mut first = g[0].clone();
        first.sort();
        assert_eq!(
            first,
            vec![col("a", "id"), col("b", "a_id"), col("c", "b_a")]
        );
        assert_eq!(g[1], vec![col("x", "id"), col("y", "x_id")]);
    }
}
