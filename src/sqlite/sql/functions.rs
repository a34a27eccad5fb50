//! SQLite's functions as both expression translators know them: a table's
//! expressions (`typemap::expr`: CHECKs, index expressions, generated
//! columns) and a view's (`views::expr`). One table, so the two say the
//! same of a function: how many arguments it takes, the PostgreSQL that
//! gives SQLite's value, the class of that value, and why the others are
//! refused. A name not here is refused by both.

use super::lexer::{Tok, Token};

pub const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
pub const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// How many arguments a function takes: at least `min`, at most `max`.
#[derive(Clone, Copy)]
struct Arity {
    min: usize,
    max: Option<usize>,
}

const fn exactly(n: usize) -> Arity {
    Arity {
        min: n,
        max: Some(n),
    }
}

const fn between(min: usize, max: usize) -> Arity {
    Arity {
        min,
        max: Some(max),
    }
}

const fn at_least(min: usize) -> Arity {
    Arity { min, max: None }
}

/// The class of a function's value, as far as its name tells it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Returns {
    Int,
    Text,
    /// The class of its arguments (`abs`, `coalesce`, …).
    Unknown,
}

/// The PostgreSQL of a scalar function, over its translated arguments.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Render {
    /// PostgreSQL's function of this name gives SQLite's value.
    Call(&'static str),
    /// SQLite's `lower()`: A-Z only (PostgreSQL's folds every letter).
    AsciiLower,
    /// SQLite's `upper()`: a-z only.
    AsciiUpper,
}

/// What a SQLite function becomes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// A function of its arguments alone, immutable in PostgreSQL: both
    /// translators take it.
    Scalar { render: Render, returns: Returns },
    /// `count()`: a view's aggregate.
    Count,
    /// `sum()`, `min()`, `max()` of one column: a view's aggregate, valid
    /// only for some column types (the view translator decides).
    OfColumn,
    /// `date('now')` and kin: the current UTC date/time as SQLite's text,
    /// in this `to_char` format. Not immutable: views only.
    Now(&'static str),
}

/// What a call's arguments must be beyond their number.
#[derive(Clone, Copy)]
enum Args {
    Any,
    /// `substr(x, start[, length])`: SQLite counts a negative start from
    /// the end, PostgreSQL does not; only positive whole-number literals
    /// mean the same in both.
    PositiveStartAndLength,
    /// The one literal `'now'` (SQLite's modifiers and input formats have no
    /// PostgreSQL counterpart).
    Now,
}

struct Function {
    name: &'static str,
    arity: Arity,
    args: Args,
    /// The translation, or why there is none (said after `name()`).
    kind: Result<Kind, &'static str>,
}

const fn scalar(name: &'static str, arity: Arity, render: Render, returns: Returns) -> Function {
    Function {
        name,
        arity,
        args: Args::Any,
        kind: Ok(Kind::Scalar { render, returns }),
    }
}

const fn refused(name: &'static str, arity: Arity, why: &'static str) -> Function {
    Function {
        name,
        arity,
        args: Args::Any,
        kind: Err(why),
    }
}

const fn now(name: &'static str, format: &'static str) -> Function {
    Function {
        name,
        arity: at_least(0),
        args: Args::Now,
        kind: Ok(Kind::Now(format)),
    }
}

const SUBSTR: Function = Function {
    name: "substr",
    arity: between(2, 3),
    args: Args::PositiveStartAndLength,
    kind: Ok(Kind::Scalar {
        render: Render::Call("substr"),
        returns: Returns::Text,
    }),
};

const DIFFERS: &str = ": SQLite's result differs in type, rendering or order";
const SEVERAL_NULL: &str = " with several arguments: SQLite's gives NULL when any is NULL, \
                            PostgreSQL's least()/greatest() skip NULLs";

/// Every function either translator takes or refuses by name; a name may
/// have several rows, told apart by their number of arguments.
const FUNCTIONS: &[Function] = &[
    scalar(
        "coalesce",
        at_least(2),
        Render::Call("coalesce"),
        Returns::Unknown,
    ),
    scalar(
        "ifnull",
        exactly(2),
        Render::Call("coalesce"),
        Returns::Unknown,
    ),
    scalar(
        "nullif",
        exactly(2),
        Render::Call("nullif"),
        Returns::Unknown,
    ),
    scalar("lower", exactly(1), Render::AsciiLower, Returns::Text),
    scalar("upper", exactly(1), Render::AsciiUpper, Returns::Text),
    scalar("length", exactly(1), Render::Call("length"), Returns::Int),
    scalar("abs", exactly(1), Render::Call("abs"), Returns::Unknown),
    scalar("trim", between(1, 2), Render::Call("btrim"), Returns::Text),
    scalar("ltrim", between(1, 2), Render::Call("ltrim"), Returns::Text),
    scalar("rtrim", between(1, 2), Render::Call("rtrim"), Returns::Text),
    scalar(
        "replace",
        exactly(3),
        Render::Call("replace"),
        Returns::Text,
    ),
    SUBSTR,
    Function {
        name: "substring",
        ..SUBSTR
    },
    Function {
        name: "count",
        arity: exactly(1),
        args: Args::Any,
        kind: Ok(Kind::Count),
    },
    Function {
        name: "sum",
        arity: exactly(1),
        args: Args::Any,
        kind: Ok(Kind::OfColumn),
    },
    Function {
        name: "min",
        arity: exactly(1),
        args: Args::Any,
        kind: Ok(Kind::OfColumn),
    },
    Function {
        name: "max",
        arity: exactly(1),
        args: Args::Any,
        kind: Ok(Kind::OfColumn),
    },
    // The view translator's reasons before the table was shared, kept
    // word for word (init writes them into mappings).
    refused("count", exactly(0), " without an argument"),
    refused("sum", exactly(0), SEVERAL_NULL),
    refused("sum", at_least(2), SEVERAL_NULL),
    refused("min", exactly(0), SEVERAL_NULL),
    refused("min", at_least(2), SEVERAL_NULL),
    refused("max", exactly(0), SEVERAL_NULL),
    refused("max", at_least(2), SEVERAL_NULL),
    refused("avg", at_least(0), DIFFERS),
    refused("total", at_least(0), DIFFERS),
    refused("group_concat", at_least(0), DIFFERS),
    refused("string_agg", at_least(0), DIFFERS),
    now("date", "YYYY-MM-DD"),
    now("time", "HH24:MI:SS"),
    now("datetime", "YYYY-MM-DD HH24:MI:SS"),
];

/// What the call `name(args…)` becomes (`name` in lower case, each
/// argument its tokens), or why it is refused.
pub(crate) fn lookup(name: &str, args: &[&[Token]]) -> Result<Kind, String> {
    let n = args.len();
    let mut rows = FUNCTIONS.iter().filter(|f| f.name == name).peekable();
    if rows.peek().is_none() {
        return Err(format!(
            "function {name}() has no exact PostgreSQL translation here"
        ));
    }
    let f = rows
        .find(|f| n >= f.arity.min && f.arity.max.is_none_or(|max| n <= max))
        .ok_or_else(|| format!("{name}() with {n} argument(s) is not translated"))?;
    let kind = f.kind.map_err(|why| format!("{name}(){why}"))?;
    check_args(name, f.args, args)?;
    Ok(kind)
}

fn check_args(name: &str, rule: Args, args: &[&[Token]]) -> Result<(), String> {
    match rule {
        Args::Any => Ok(()),
        Args::PositiveStartAndLength => {
            let start_ok = int_literal(args[1]).is_some_and(|v| v >= 1);
            let length_ok = args.get(2).is_none_or(|a| int_literal(a).is_some_and(|v| v >= 0));
            if start_ok && length_ok {
                Ok(())
            } else {
                Err(format!(
                    "{name}() with a start or length other than positive whole numbers \
                     (SQLite counts a negative start from the end)"
                ))
            }
        }
        Args::Now => match args {
            [[t]] if matches!(&t.tok, Tok::Str(s) if s.eq_ignore_ascii_case("now")) => Ok(()),
            _ => Err(format!(
                "{name}() other than {name}('now') (its modifiers and input formats) is not translated"
            )),
        },
    }
}

/// The value of an argument that is one whole-number literal.
fn int_literal(arg: &[Token]) -> Option<i64> {
    match arg {
        [t] => match &t.tok {
            Tok::Num(v) => v.parse().ok(),
            _ => None,
        },
        _ => None,
    }
}

impl Render {
    /// The PostgreSQL before the arguments: the function's name.
    pub fn name(self) -> &'static str {
        match self {
            Render::Call(name) => name,
            Render::AsciiLower | Render::AsciiUpper => "translate",
        }
    }

    /// What follows the arguments inside the parentheses: `translate()`'s
    /// letters for the ASCII case folds.
    pub fn after_args(self) -> String {
        match self {
            Render::Call(_) => String::new(),
            Render::AsciiLower => format!(", '{UPPER}', '{LOWER}'"),
            Render::AsciiUpper => format!(", '{LOWER}', '{UPPER}'"),
        }
    }

    /// The whole call over translated arguments.
    pub fn call(self, args: &[String]) -> String {
        format!("{}({}{})", self.name(), args.join(", "), self.after_args())
    }
}

/// SQLite's `lower(x)` of a translated `x`: A-Z folded, nothing else.
pub fn ascii_lower(x: &str) -> String {
    Render::AsciiLower.call(&[x.to_string()])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sqlite::sql::lexer::tokenize;

    fn look(sql: &str) -> Result<Kind, String> {
        let toks = tokenize(sql).unwrap();
        let name = match &toks[0].tok {
            Tok::Word(w) => w.to_ascii_lowercase(),
            _ => unreachable!(),
        };
        let close = toks.len() - 1;
        let args: Vec<&[Token]> = crate::sqlite::sql::lexer::split_commas(&toks, 2, close)
            .into_iter()
            .map(|(a, b)| &toks[a..b])
            .collect();
        lookup(&name, &args)
    }

    #[test]
    fn aggregate_refusals_keep_the_view_translators_words() {
        assert_eq!(look("count()").unwrap_err(), "count() without an argument");
        for call in ["sum()", "sum(a, b)", "min()", "max(a, b, c)"] {
            let e = look(call).unwrap_err();
            assert!(
                e.contains("with several arguments: SQLite's gives NULL"),
                "{call}: {e}"
            );
        }
    }

    #[test]
    fn sqlite_case_folding_is_written_out_for_ascii_letters_only() {
        assert_eq!(
            Render::AsciiLower.call(&["x".into()]),
            "translate(x, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
        );
        assert_eq!(
            Render::AsciiUpper.call(&["x".into()]),
            "translate(x, 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ')"
        );
        assert_eq!(ascii_lower("x"), Render::AsciiLower.call(&["x".into()]));
    }

    #[test]
    fn a_call_is_refused_for_its_name_its_arguments_or_their_values() {
        let why = |sql: &str| look(sql).unwrap_err();
        assert!(why("printf('%d', 1)").contains("function printf()"));
        assert!(why("lower(a, b)").contains("lower() with 2 argument(s)"));
        assert!(why("max(a, b)").contains("NULL"));
        assert!(why("avg(a)").contains("avg(): SQLite's result differs"));
        assert!(why("substr(a, -2)").contains("negative start"));
        assert!(why("substr(a, n, 2)").contains("negative start"));
        assert!(why("datetime('now', 'localtime')").contains("modifiers"));
        assert!(why("date(d)").contains("modifiers"));
        assert_eq!(
            look("substring(a, 2)"),
            Ok(Kind::Scalar {
                render: Render::Call("substr"),
                returns: Returns::Text
            })
        );
        assert_eq!(look("max(a)"), Ok(Kind::OfColumn));
        assert_eq!(look("date('NOW')"), Ok(Kind::Now("YYYY-MM-DD")));
    }
}
