//! What finalize will do, planned before any statement runs: what the
//! catalog holds already is read first (so a rerun after a crash does only
//! what is missing), then the steps are made from it by pure functions,
//! unit-tested below.

use super::builds::Step;
use crate::config::plan::{ForeignKeyPlan, TablePlan};
use crate::error;
use crate::pg::catalog;
use crate::pg::ident::quote;
use crate::stages::ddl;
use anyhow::Result;
use tokio_postgres::Client;

const DUPLICATE_KEYS: &[(&str, &str)] = &[("23505", " (duplicate keys in the source?)")];
const DUPLICATE_VALUES: &[(&str, &str)] = &[("23505", " (duplicate values in the source?)")];
const KEY_NULLS: &[(&str, &str)] = &[("23502", " (NULL key values in the source?)")];
const ORPHANS: &[(&str, &str)] = &[(
    "23503",
    " (rows whose parent row is missing in the source?)",
)];
const OUTSIDE_ORPHANS: &[(&str, &str)] = &[(
    "23503",
    " (loaded rows whose key has no row in that table of the target: add the missing rows \
     there or set those columns to NULL, then rerun; the key stays NOT VALID until then)",
)];
const NO_HINT: &[(&str, &str)] = &[];

/// A table finalize works on.
#[derive(Clone, Copy)]
pub(super) struct Todo<'a> {
    pub table: &'a TablePlan,
    /// Created by this tool: its keys, indexes, CHECKs and foreign keys are
    /// finalize's to make. An application's own table keeps its own; only
    /// its sequences and statistics are brought up to date.
    pub ours: bool,
}

/// Finalize's statements in the order they run (the numbers of the
/// module's header), and what they leave to be weighed or said.
#[derive(Default)]
pub(super) struct FinalizePlan {
    /// Step 1: every index build, each primary key's unique index included.
    pub builds: Vec<Step>,
    /// Step 2, per table: its primary key attached `USING INDEX`.
    pub attach: Vec<Step>,
    /// Step 3: foreign keys added NOT VALID.
    pub foreign_keys: Vec<Step>,
    /// Step 4, per table: its foreign keys validated, then its sequences and
    /// statistics. Longest first: the chains that validate keys.
    pub chains: Vec<Vec<Step>>,
    /// Keys whose orphans the mapping acknowledges (`orphans = N`), as
    /// (source table, key name): added NOT VALID and not validated; their
    /// orphans are counted after the chains.
    pub acknowledged: Vec<(String, String)>,
    /// Foreign keys not added because their outside table is missing and
    /// they allow it (`if_exists = true`), as (source table, note).
    pub left_out: Vec<(String, String)>,
}

impl FinalizePlan {
    /// What the catalog holds of `tables` read, the rest planned. Foreign
    /// keys and indexes of ours that the mapping no longer has are named
    /// first (see [`report_leftovers`]).
    pub async fn read(client: &Client, tables: &[Todo<'_>]) -> Result<FinalizePlan> {
        let ours: Vec<&TablePlan> = tables.iter().filter(|t| t.ours).map(|t| t.table).collect();
        for t in &ours {
            report_leftovers(client, t).await?;
        }
        let mut plan = FinalizePlan::default();
        for t in &ours {
            let (builds, attach) = key_steps(client, t).await?;
            plan.builds.extend(builds);
            plan.attach.extend(attach);
        }
        for todo in tables {
            let t = todo.table;
            let mut keys = Vec::new();
            if todo.ours {
                for fk in &t.foreign_keys {
                    keys.push(ForeignKeyFound::read(client, t, fk).await?);
                }
            }
            let sequences = catalog::sequences(client, &t.qualified()).await?;
            plan.add_table(t, &keys, &sequences)?;
        }
        plan.chains.sort_by_key(|c| std::cmp::Reverse(c.len()));
        Ok(plan)
    }

    /// How many statements the plan runs (finalize's bar counts them).
    pub fn statements(&self) -> usize {
        self.builds.len()
            + self.attach.len()
            + self.foreign_keys.len()
            + self.chains.iter().map(Vec::len).sum::<usize>()
    }

    /// `t`'s foreign keys (`keys`: what the catalog holds of each, none for
    /// an application's table) and its sequences and statistics.
    fn add_table(
        &mut self,
        t: &TablePlan,
        keys: &[ForeignKeyFound],
        sequences: &[(String, String)],
    ) -> Result<()> {
        let mut chain = Vec::new();
        for (fk, found) in t.foreign_keys.iter().zip(keys) {
            let what = format!(
                "foreign key {} on {} → {}",
                fk.name,
                t.qualified(),
                fk.ref_table
            );
            match found {
                ForeignKeyFound::Validated => continue,
                ForeignKeyFound::NoOutsideTable(why) if fk.if_exists => {
                    let note = format!("{why} (if_exists = true)");
                    self.left_out.push((t.source.clone(), note));
                    continue;
                }
                ForeignKeyFound::NoOutsideTable(why) => {
                    return Err(error::blocked(format!(
                        "{why}. Create it (the application's migrations?) and rerun, or set \
                         if_exists = true on this foreign key to load without it"
                    )));
                }
                ForeignKeyFound::NotValid => {}
                ForeignKeyFound::Missing => self.foreign_keys.push(Step {
                    sql: vec![ddl::foreign_key(t, fk)],
                    what: format!("adding {what} (NOT VALID, validated next)"),
                    hint: NO_HINT,
                    orphans_of: None,
                }),
            }
            if fk.orphans > 0 && !fk.outside {
                self.acknowledged.push((t.source.clone(), fk.name.clone()));
                continue;
            }
            chain.push(Step {
                sql: vec![ddl::validate_foreign_key(t, fk)],
                what,
                hint: if fk.outside { OUTSIDE_ORPHANS } else { ORPHANS },
                orphans_of: (!fk.outside).then(|| (t.source.clone(), fk.name.clone())),
            });
        }
        chain.push(sequences_and_statistics(t, sequences));
        self.chains.push(chain);
        Ok(())
    }
}

/// A foreign key of the mapping as the catalog holds it.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum ForeignKeyFound {
    /// Not there: added NOT VALID, then validated.
    Missing,
    /// Added NOT VALID by an earlier finalize: validated only.
    NotValid,
    /// Nothing left to do.
    Validated,
    /// Its table outside the pipeline is not in the target (why): it
    /// cannot be added.
    NoOutsideTable(String),
}

impl ForeignKeyFound {
    async fn read(client: &Client, t: &TablePlan, fk: &ForeignKeyPlan) -> Result<ForeignKeyFound> {
        Ok(
            match catalog::constraint_validated(client, &t.schema, &t.target, &fk.name).await? {
                Some(true) => ForeignKeyFound::Validated,
                Some(false) => ForeignKeyFound::NotValid,
                None => match missing_outside_table(client, t, fk).await? {
                    Some(why) => ForeignKeyFound::NoOutsideTable(why),
                    None => ForeignKeyFound::Missing,
                },
            },
        )
    }
}

/// The last step of a table's chain: each sequence (column, sequence) moved
/// past the largest id loaded, then ANALYZE.
fn sequences_and_statistics(t: &TablePlan, sequences: &[(String, String)]) -> Step {
    let mut sqls = Vec::new();
    for (col, seq) in sequences {
        let floor = t
            .columns
            .iter()
            .find(|c| &c.target == col)
            .and_then(|c| c.sequence_floor)
            .unwrap_or(0);
        // The next value is past the largest id loaded (and past the
        // AUTOINCREMENT floor). Said as "this one was used" rather than
        // "max + 1 is next", so a source holding the largest bigint does
        // not overflow here: PostgreSQL then refuses the next id, where
        // SQLite would have picked a random free one.
        sqls.push(format!(
            "SELECT CASE WHEN m >= 1 THEN setval({seq}::regclass, m, true) \
             ELSE setval({seq}::regclass, 1, false) END \
             FROM (SELECT greatest(coalesce(max({}), 0), {floor}) AS m FROM {}) s",
            quote(col),
            t.qualified(),
            seq = crate::pg::ident::literal(seq),
        ));
    }
    sqls.push(format!("ANALYZE {}", t.qualified()));
    Step {
        sql: sqls,
        what: format!("sequences and statistics of {}", t.qualified()),
        hint: NO_HINT,
        orphans_of: None,
    }
}

/// A foreign key to a table outside the pipeline (`references_target`)
/// whose table is not in the target: `Some(why)` when it cannot be added.
pub async fn missing_outside_table(
    client: &Client,
    t: &TablePlan,
    fk: &ForeignKeyPlan,
) -> Result<Option<String>> {
    if !fk.outside || catalog::table_exists(client, &t.schema, &fk.ref_table).await? {
        return Ok(None);
    }
    Ok(Some(format!(
        "foreign key {} of {} ({}) → {}({}) not added: the target has no table {}",
        fk.name,
        t.qualified(),
        fk.columns.join(", "),
        crate::pg::ident::qualified(&t.schema, &fk.ref_table),
        fk.ref_columns.join(", "),
        crate::pg::ident::qualified(&t.schema, &fk.ref_table),
    )))
}

/// Whether `t`'s index `name` exists already. Another table's index or any
/// other relation of that name is an error: `CREATE INDEX IF NOT EXISTS`
/// would skip ours silently.
async fn index_exists(client: &Client, t: &TablePlan, name: &str) -> Result<bool> {
    if let Some(owner) = catalog::index_owner(client, &t.schema, name).await? {
        if owner == t.target {
            return Ok(true);
        }
        return Err(error::usage(format!(
            "index {name} of {} cannot be created: table {owner} in schema {} already has an index \
             of that name (index names are per schema); rename it in the mapping",
            t.qualified(),
            t.schema
        )));
    }
    if let Some(kind) = catalog::relation_kind(client, &t.schema, name).await? {
        return Err(error::usage(format!(
            "index {name} of {} cannot be created: a {kind} of that name exists in schema {} \
             (tables, views, sequences and indexes share a schema's names); rename the index in the mapping",
            t.qualified(),
            t.schema
        )));
    }
    Ok(false)
}

/// A table's index builds (its primary key's unique index included) and the
/// step that then attaches the primary key, each only if its object is
/// missing.
pub async fn key_steps(client: &Client, t: &TablePlan) -> Result<(Vec<Step>, Option<Step>)> {
    Ok(KeysFound::read(client, t).await?.steps(t))
}

/// What the catalog holds of a table's primary key and indexes.
#[derive(Debug)]
struct KeysFound {
    primary_key: PrimaryKeyFound,
    /// For each index of the mapping, in its order: built already.
    indexes_built: Vec<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum PrimaryKeyFound {
    /// Attached already, or the mapping has none.
    Done,
    /// Its unique index built but not attached (a crash in between).
    IndexBuilt,
    Missing,
}

impl KeysFound {
    async fn read(client: &Client, t: &TablePlan) -> Result<KeysFound> {
        let primary_key = if t.primary_key.is_empty()
            || catalog::has_primary_key(client, &t.schema, &t.target).await?
        {
            PrimaryKeyFound::Done
        } else if index_exists(client, t, &t.pk_name).await? {
            PrimaryKeyFound::IndexBuilt
        } else {
            PrimaryKeyFound::Missing
        };
        let mut indexes_built = Vec::with_capacity(t.indexes.len());
        for ix in &t.indexes {
            indexes_built.push(index_exists(client, t, &ix.name).await?);
        }
        Ok(KeysFound {
            primary_key,
            indexes_built,
        })
    }

    /// The builds of what is missing, and the primary key's attachment.
    fn steps(&self, t: &TablePlan) -> (Vec<Step>, Option<Step>) {
        let mut builds = Vec::new();
        if self.primary_key == PrimaryKeyFound::Missing {
            let cols: Vec<String> = t.primary_key.iter().map(|c| quote(c)).collect();
            builds.push(Step {
                sql: vec![format!(
                    "CREATE UNIQUE INDEX IF NOT EXISTS {} ON {} ({})",
                    quote(&t.pk_name),
                    t.qualified(),
                    cols.join(", ")
                )],
                what: format!("primary key index of {}", t.qualified()),
                hint: DUPLICATE_KEYS,
                orphans_of: None,
            });
        }
        for (ix, built) in t.indexes.iter().zip(&self.indexes_built) {
            if *built {
                continue;
            }
            builds.push(Step {
                sql: vec![ddl::index(t, ix)],
                what: format!("index {} on {}", ix.name, t.qualified()),
                hint: if ix.unique { DUPLICATE_VALUES } else { NO_HINT },
                orphans_of: None,
            });
        }
        let attach = (self.primary_key != PrimaryKeyFound::Done).then(|| Step {
            sql: vec![format!(
                "ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY USING INDEX {}",
                t.qualified(),
                quote(&t.pk_name),
                quote(&t.pk_name)
            )],
            what: format!("primary key of {}", t.qualified()),
            hint: KEY_NULLS,
            orphans_of: None,
        });
        (builds, attach)
    }
}

/// Foreign keys and indexes on a table this tool created that the mapping
/// no longer has (left by an earlier run, before the mapping was edited)
/// are named, not dropped: an application may have added its own since.
async fn report_leftovers(client: &Client, t: &TablePlan) -> Result<()> {
    let (fks, indexes) = catalog::keys_and_indexes(client, &t.schema, &t.target).await?;
    for (name, validated) in fks {
        if !t.foreign_keys.iter().any(|f| f.name == name) {
            tracing::warn!(
                "table {} has foreign key {name}{} that the mapping does not have (left by an earlier run?); \
                 kept — drop it with ALTER TABLE {} DROP CONSTRAINT {} if it should go",
                t.qualified(),
                if validated { "" } else { " (NOT VALID)" },
                t.qualified(),
                quote(&name)
            );
        }
    }
    for name in indexes {
        if name != t.pk_name && !t.indexes.iter().any(|i| i.name == name) {
            tracing::warn!(
                "table {} has index {name} that the mapping does not have (left by an earlier run?); \
                 kept — drop it with DROP INDEX {} if it should go",
                t.qualified(),
                crate::pg::ident::qualified(&t.schema, &name)
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::mapping::{IndexDef, Pipeline};
    use std::path::Path;

    /// Table `orders` (target `public.orders`) with a primary key, two
    /// indexes and no foreign keys yet.
    fn orders() -> TablePlan {
        let toml = r#"
[source]
path = "x.db"
[target]
url = "postgres://localhost/x"
[tables.orders]
primary_key = ["id"]
[tables.orders.columns]
id = { type = "bigint" }
customer = { type = "bigint" }
code = { type = "text" }
"#;
        let p = Pipeline::parse(toml, Path::new("t.toml")).unwrap();
        let mut t = crate::config::plan::plan(&p).unwrap().remove(0);
        for (name, unique) in [("orders_code", true), ("orders_customer", false)] {
            t.indexes.push(IndexDef {
                name: name.into(),
                columns: vec![name.trim_start_matches("orders_").into()],
                unique,
                predicate: None,
            });
        }
        t
    }

    fn key(name: &str, outside: bool, if_exists: bool, orphans: u64) -> ForeignKeyPlan {
        ForeignKeyPlan {
            name: name.into(),
            columns: vec!["customer".into()],
            ref_table: "customers".into(),
            ref_columns: vec!["id".into()],
            on_delete: None,
            on_update: None,
            outside,
            if_exists,
            deferrable: None,
            orphans,
        }
    }

    fn whats(steps: &[Step]) -> Vec<&str> {
        steps.iter().map(|s| s.what.as_str()).collect()
    }

    #[test]
    fn a_primary_key_whose_index_was_built_is_only_attached() {
        let t = orders();
        let found = KeysFound {
            primary_key: PrimaryKeyFound::IndexBuilt,
            indexes_built: vec![true, false],
        };
        let (builds, attach) = found.steps(&t);
        assert_eq!(
            whats(&builds),
            ["index orders_customer on \"public\".\"orders\""]
        );
        assert_eq!(builds[0].hint, NO_HINT);
        let attach = attach.expect("the key is attached");
        assert_eq!(attach.hint, KEY_NULLS);
        assert!(attach.sql[0].contains("PRIMARY KEY USING INDEX \"orders_pkey\""));
    }

    #[test]
    fn missing_keys_are_built_with_the_hint_of_their_failure() {
        let t = orders();
        let found = KeysFound {
            primary_key: PrimaryKeyFound::Missing,
            indexes_built: vec![false, false],
        };
        let (builds, attach) = found.steps(&t);
        assert_eq!(builds.len(), 3);
        assert!(builds[0].sql[0].starts_with("CREATE UNIQUE INDEX IF NOT EXISTS \"orders_pkey\""));
        let hints: Vec<_> = builds.iter().map(|s| s.hint).collect();
        assert_eq!(hints, [DUPLICATE_KEYS, DUPLICATE_VALUES, NO_HINT]);
        assert!(attach.is_some());
    }

    #[test]
    fn keys_attached_and_indexes_built_leave_nothing_to_do() {
        let found = KeysFound {
            primary_key: PrimaryKeyFound::Done,
            indexes_built: vec![true, true],
        };
        let (builds, attach) = found.steps(&orders());
        assert!(builds.is_empty() && attach.is_none());
    }

    #[test]
    fn a_missing_key_is_added_not_valid_and_one_added_earlier_is_only_validated() {
        let mut t = orders();
        t.foreign_keys = vec![
            key("fresh", false, false, 0),
            key("half", false, false, 0),
            key("done", false, false, 0),
        ];
        let found = [
            ForeignKeyFound::Missing,
            ForeignKeyFound::NotValid,
            ForeignKeyFound::Validated,
        ];
        let mut plan = FinalizePlan::default();
        plan.add_table(&t, &found, &[]).unwrap();
        assert_eq!(plan.foreign_keys.len(), 1);
        assert!(plan.foreign_keys[0].sql[0].contains("\"fresh\""));
        let chain = &plan.chains[0];
        assert_eq!(
            chain.len(),
            3,
            "two validations, then sequences and statistics"
        );
        assert!(chain[0].sql[0].ends_with("VALIDATE CONSTRAINT \"fresh\""));
        assert!(chain[1].sql[0].ends_with("VALIDATE CONSTRAINT \"half\""));
        assert_eq!(chain[0].orphans_of, Some(("orders".into(), "fresh".into())));
        assert_eq!(chain[0].hint, ORPHANS);
        assert_eq!(plan.statements(), 4);
    }

    #[test]
    fn acknowledged_orphans_leave_the_key_unvalidated_for_counting() {
        let mut t = orders();
        t.foreign_keys = vec![key("known", false, false, 3)];
        let mut plan = FinalizePlan::default();
        plan.add_table(&t, &[ForeignKeyFound::Missing], &[])
            .unwrap();
        assert_eq!(plan.foreign_keys.len(), 1, "added NOT VALID");
        assert_eq!(plan.acknowledged, [("orders".into(), "known".into())]);
        assert_eq!(plan.chains[0].len(), 1, "no validation in the chain");
    }

    #[test]
    fn a_key_to_a_missing_outside_table_refuses_unless_it_allows_that() {
        let why = ForeignKeyFound::NoOutsideTable("no table customers".into());
        let mut t = orders();
        t.foreign_keys = vec![key("out", true, false, 0)];
        let e = FinalizePlan::default()
            .add_table(&t, std::slice::from_ref(&why), &[])
            .unwrap_err();
        assert_eq!(error::classify(&e), error::ExitClass::Blocked);
        assert!(e.to_string().contains("if_exists = true"), "{e}");

        t.foreign_keys = vec![key("out", true, true, 0)];
        let mut plan = FinalizePlan::default();
        plan.add_table(&t, &[why], &[]).unwrap();
        assert_eq!(
            plan.left_out,
            [(
                "orders".into(),
                "no table customers (if_exists = true)".into()
            )]
        );
        assert!(plan.foreign_keys.is_empty());
    }

    #[test]
    fn an_outside_keys_validation_fails_with_its_own_hint_rather_than_being_counted() {
        let mut t = orders();
        t.foreign_keys = vec![key("out", true, false, 0)];
        let mut plan = FinalizePlan::default();
        plan.add_table(&t, &[ForeignKeyFound::Missing], &[])
            .unwrap();
        assert_eq!(plan.chains[0][0].hint, OUTSIDE_ORPHANS);
        assert_eq!(plan.chains[0][0].orphans_of, None);
    }

    #[test]
    fn an_applications_table_gets_its_sequences_moved_and_statistics_only() {
        let mut t = orders();
        t.foreign_keys = vec![key("theirs", false, false, 0)];
        let mut plan = FinalizePlan::default();
        let sequences = [("id".to_string(), "public.orders_id_seq".to_string())];
        plan.add_table(&t, &[], &sequences).unwrap();
        assert!(plan.foreign_keys.is_empty());
        let chain = &plan.chains[0];
        assert_eq!(
            whats(chain),
            ["sequences and statistics of \"public\".\"orders\""]
        );
        let sqls = &chain[0].sql;
        assert_eq!(sqls.len(), 2);
        assert!(sqls[0].contains("setval('public.orders_id_seq'::regclass, m, true)"));
        assert!(sqls[0].contains("max(\"id\")"));
        assert_eq!(sqls[1], "ANALYZE \"public\".\"orders\"");
    }
}
