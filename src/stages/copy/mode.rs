//! How each table of a copy loads: pure decisions, unit-tested (as
//! [`super::order`] is). A table this tool created, none of it committed,
//! with `commit_every = "table"` loads in one transaction after a TRUNCATE,
//! with COPY FREEZE; one `--stage copy` names again after it was loaded is
//! replaced as a whole; an application's table whose foreign key references
//! itself loads its chunks one at a time; every other table loads its
//! chunks side by side.

/// What the state and the target say of a table about to be copied.
#[derive(Debug, Clone, Copy, Default)]
pub struct Facts {
    /// `--stage copy` named the stage.
    pub named: bool,
    /// Its copy is recorded as done.
    pub copied: bool,
    /// Its chunks not committed yet.
    pub pending: usize,
    /// All its chunks.
    pub chunks: usize,
    /// An application's table, not one this tool created.
    pub preexisting: bool,
    /// `commit_every = "table"`.
    pub per_table: bool,
    /// The target table holds rows, or another table's foreign key
    /// references it. Only read where it decides something
    /// ([`Facts::wants_fresh_whole`]): it costs a query on the table.
    pub occupied: bool,
    /// An application's table whose foreign key references itself. Only
    /// read for an application's table.
    pub self_referencing: bool,
}

/// How one table loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadMode {
    /// In one transaction after a TRUNCATE: all its chunks are one job.
    pub whole: bool,
    /// Already loaded: replaced as a whole.
    pub reload: bool,
    /// Its chunks one at a time in rowid order, so a parent row earlier in
    /// the table is committed before its children.
    pub serial: bool,
}

impl Facts {
    /// `--stage copy` on a table whose chunks are all committed reloads it
    /// — also after a failed reload, which rolled back and left every chunk
    /// done.
    pub fn reloads(&self) -> bool {
        self.named && self.pending == 0
    }

    /// Nothing to load: copied, and not named again.
    pub fn skipped(&self) -> bool {
        self.copied && !self.reloads()
    }

    /// A table this tool created with none of it committed yet, configured
    /// to load in one transaction: TRUNCATE, then COPY FREEZE. Not if that
    /// TRUNCATE could destroy rows someone else wrote since prepare, or
    /// would be refused (another table's foreign key points at it, say
    /// after `--table child` ran finalize): `occupied` decides.
    pub fn wants_fresh_whole(&self) -> bool {
        !self.preexisting && self.per_table && self.pending == self.chunks
    }
}

/// How the table of `facts` loads; `None` when it is not loaded at all.
pub fn load_mode(facts: &Facts) -> Option<LoadMode> {
    if facts.skipped() {
        return None;
    }
    let reload = facts.reloads();
    let fresh_whole = facts.wants_fresh_whole() && !facts.occupied;
    Some(LoadMode {
        whole: reload || fresh_whole,
        reload,
        serial: facts.preexisting && facts.self_referencing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table this tool created, prepared in 4 chunks, none loaded.
    fn fresh() -> Facts {
        Facts {
            pending: 4,
            chunks: 4,
            ..Facts::default()
        }
    }

    fn mode(whole: bool, reload: bool, serial: bool) -> Option<LoadMode> {
        Some(LoadMode {
            whole,
            reload,
            serial,
        })
    }

    #[test]
    fn a_fresh_table_loads_whole_only_with_commit_every_table() {
        assert_eq!(load_mode(&fresh()), mode(false, false, false));
        let per_table = Facts {
            per_table: true,
            ..fresh()
        };
        assert_eq!(load_mode(&per_table), mode(true, false, false));
    }

    #[test]
    fn a_table_holding_rows_or_referenced_loads_per_chunk_after_all() {
        let occupied = Facts {
            per_table: true,
            occupied: true,
            ..fresh()
        };
        assert!(occupied.wants_fresh_whole());
        assert_eq!(load_mode(&occupied), mode(false, false, false));
    }

    #[test]
    fn a_table_partly_committed_resumes_per_chunk() {
        let resumed = Facts {
            per_table: true,
            pending: 1,
            ..fresh()
        };
        assert!(!resumed.wants_fresh_whole());
        assert_eq!(load_mode(&resumed), mode(false, false, false));
    }

    #[test]
    fn a_copied_table_is_skipped_unless_the_stage_is_named_then_reloaded_whole() {
        let copied = Facts {
            copied: true,
            pending: 0,
            ..fresh()
        };
        assert_eq!(load_mode(&copied), None);
        let named = Facts {
            named: true,
            ..copied
        };
        assert_eq!(load_mode(&named), mode(true, true, false));
        // A failed reload rolled back: its copy is not done, its chunks are.
        let after_failed_reload = Facts {
            copied: false,
            ..named
        };
        assert_eq!(load_mode(&after_failed_reload), mode(true, true, false));
    }

    #[test]
    fn naming_the_stage_does_not_reload_a_table_with_chunks_pending() {
        let named = Facts {
            named: true,
            pending: 2,
            ..fresh()
        };
        assert!(!named.reloads());
        assert_eq!(load_mode(&named), mode(false, false, false));
    }

    #[test]
    fn an_applications_table_never_loads_fresh_whole_and_serially_when_self_referencing() {
        let theirs = Facts {
            preexisting: true,
            per_table: true,
            self_referencing: true,
            ..fresh()
        };
        assert!(!theirs.wants_fresh_whole());
        assert_eq!(load_mode(&theirs), mode(false, false, true));
        let plain = Facts {
            self_referencing: false,
            ..theirs
        };
        assert_eq!(load_mode(&plain), mode(false, false, false));
    }
}
