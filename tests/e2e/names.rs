//! The case of the target names: `init --names lower|keep`, lower by
//! default, kept for a framework whose queries quote names (docs/mapping.md,
//! "Names").

use crate::common::*;

/// The one-line move of a chinook-shape file: every name lower case, so
/// `select * from album` reads it; its keys and foreign keys are there
/// (over the lower-case names), and verify passes.
#[test]
fn the_one_line_move_writes_lower_case_names_that_unquoted_queries_read() {
    let (dir, _src) = sqlite_fixture(CHINOOK_SQL);
    let db = TestDb::new();
    let o = sqlite2pg_in(
        dir.path(),
        &["run", "source.db", "--target", &db.url, "--no-progress"],
    );
    assert_exit(&o, 0, &["names: lower case", "pgloader's default", "OK"]);
    let text = std::fs::read_to_string(dir.path().join("pipelines/source.toml")).unwrap();
    assert!(text.contains("names = \"lower\""), "{text}");
    let albums = db.query("select title, artistid from album order by albumid");
    assert_eq!(albums.len(), 5);
    assert_eq!(albums[1], ["Balls to the Wall", "2"]);
    let keys = |kind: &str| {
        db.scalar(&format!(
            "select count(*) from pg_constraint where contype = '{kind}' and convalidated \
             and connamespace = 'public'::regnamespace"
        ))
    };
    assert_eq!(keys("p"), "11", "a primary key on every table");
    assert_eq!(keys("f"), "11", "every foreign key, validated");
    assert_eq!(
        db.scalar(
            "select count(*) from pg_class where relkind = 'i' and relname = 'ifk_albumartistid'"
        ),
        "1",
        "the file's index names folded too"
    );
    // A reference PostgreSQL checks: the key over the lower-case names.
    let refused = db.refusal("insert into album values (99, 'x', 999)");
    assert!(refused.contains("album_artistid_fkey"), "{refused}");
    let o = sqlite2pg_in(
        dir.path(),
        &["verify", "pipelines/source.toml", "--target", &db.url],
    );
    assert_exit(&o, 0, &["OK"]);
}

/// `--names keep` keeps the file's spelling, and says so.
#[test]
fn names_keep_keeps_the_files_spelling() {
    let (dir, src) = sqlite_fixture(CHINOOK_SQL);
    let toml = dir.path().join("p.toml");
    let (s, t) = (src.to_str().unwrap(), toml.to_str().unwrap());
    let o = sqlite2pg(&["init", s, "-o", t, "--names", "keep"]);
    assert_exit(
        &o,
        0,
        &["names: kept as the file spells them (--names keep)"],
    );
    let text = std::fs::read_to_string(&toml).unwrap();
    assert!(text.contains("names = \"keep\""), "{text}");
    assert!(!text.contains("target = \"album\""), "{text}");
}

/// A column renamed in its table but not in a foreign key's `ref_columns`
/// that references it: `check` names that entry (before, it said ok and
/// `run` failed in finalize, exit 4, after loading everything).
#[test]
fn check_names_a_ref_column_that_is_no_column_of_the_referenced_table() {
    let (dir, src) = sqlite_fixture(CHINOOK_SQL);
    let toml = dir.path().join("p.toml");
    let (s, t) = (src.to_str().unwrap(), toml.to_str().unwrap());
    let o = sqlite2pg(&["init", s, "-o", t]);
    assert_exit(&o, 0, &[]);
    // Artist's key column renamed; Album's foreign key still says artistid.
    let text = std::fs::read_to_string(&toml).unwrap();
    let section = "[tables.Artist.columns.ArtistId]";
    let at = text.find(section).expect(section);
    let end = at + text[at..].find("target = \"artistid\"").unwrap();
    let edited = format!(
        "{}target = \"artist_id\"{}",
        &text[..end],
        &text[end + "target = \"artistid\"".len()..]
    );
    std::fs::write(
        &toml,
        edited.replace(
            "primary_key = [\"artistid\"]",
            "primary_key = [\"artist_id\"]",
        ),
    )
    .unwrap();
    let o = sqlite2pg(&["check", t]);
    assert_exit(
        &o,
        2,
        &[
            "tables.Album.foreign_keys.0.ref_columns",
            "`artistid` is not a target column of `artist`",
        ],
    );
}
