//! PostgreSQL's own refusal of a statement, told apart from a failure a
//! rerun may cure. What PostgreSQL refuses after the rows are in (a CHECK
//! that does not translate, a view's SELECT) is left out and named by
//! `finalize` and `views` alike, rather than failing a loaded run.

/// PostgreSQL's own refusal of a statement (a syntax error, an unknown
/// function, a type mismatch, a data exception), as opposed to a failure a
/// rerun may cure (connection, resources, locks, shutdown).
pub(super) fn refused_by_postgres(e: &tokio_postgres::Error) -> Option<String> {
    let db = e.as_db_error()?;
    let class = &db.code().code()[..2];
    ["42", "22", "23", "2B", "0A"]
        .contains(&class)
        .then(|| db.message().to_string())
}
