//! Key column types: `init` keeps a foreign key whenever PostgreSQL accepts
//! its column types (docs/mapping.md, "Foreign keys and orphans"), and the
//! key exists in the target after `run`.

use crate::common::*;

/// The constraints of `table` in the target: (name, definition).
fn foreign_keys(db: &TestDb, table: &str) -> Vec<(String, String)> {
    db.query(&format!(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint \
         WHERE contype = 'f' AND conrelid = 'public.{table}'::regclass ORDER BY conname"
    ))
    .into_iter()
    .map(|r| (r[0].clone(), r[1].clone()))
    .collect()
}

/// Issue 26's repro: an empty child whose varchar(10) column becomes text
/// (case a), and a varchar(20) child of a varchar(10) parent (case b).
/// PostgreSQL accepts both keys; init used to drop them as "cannot compare".
/// (Case a no longer arises from init, which types the empty child with its
/// parent's cells; `pg::fk_types`' unit tests hold text → varchar(n).)
#[test]
fn keys_postgresql_accepts_are_kept_text_and_longer_varchar_children() {
    let (dir, src) = sqlite_fixture(
        "CREATE TABLE p(k varchar(10) PRIMARY KEY); INSERT INTO p VALUES('a');
         CREATE TABLE c(id INTEGER PRIMARY KEY, k varchar(10) REFERENCES p(k));
         CREATE TABLE d(id INTEGER PRIMARY KEY, k varchar(20) REFERENCES p(k));
         INSERT INTO d VALUES (1, 'a'), (2, NULL);",
    );
    let toml = dir.path().join("p.toml");
    let o = init_ok(&src, &toml);
    assert!(!stderr(&o).contains("not carried over"), "{}", stderr(&o));
    let db = TestDb::new();
    assert_exit(&run_pipeline(&toml, &db.url, &[]), 0, &[]);
    // The keys exist. The empty child is typed with its parent's cells
    // (key columns are typed together), the varchar(20) child keeps its
    // declared length.
    assert_eq!(
        db.scalar(
            "SELECT string_agg(format('%s.%s %s', c.relname, a.attname, \
             format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY c.relname) \
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
             WHERE c.relname IN ('p', 'c', 'd') AND a.attname = 'k'"
        ),
        "c.k character varying(10), d.k character varying(20), p.k character varying(10)"
    );
    assert_eq!(
        foreign_keys(&db, "c"),
        vec![("c_k_fkey".into(), "FOREIGN KEY (k) REFERENCES p(k)".into())]
    );
    assert_eq!(
        foreign_keys(&db, "d"),
        vec![("d_k_fkey".into(), "FOREIGN KEY (k) REFERENCES p(k)".into())]
    );
    // Enforced: a row without a parent is refused.
    let refused = db.refusal("INSERT INTO public.c VALUES (9, 'zz')");
    assert!(
        refused.contains("violates foreign key constraint"),
        "{refused}"
    );
    let o = sqlite2pg(&["verify", toml.to_str().unwrap(), "--target", &db.url]);
    assert_exit(&o, 0, &["2 foreign key(s) checked"]);
}

/// A few rows per table of proj.db's shape; INTEGER_OR_TEXT stores most
/// codes as integers, some as text (`EARTH`, `ppm_per_year`), as proj.db
/// does. Inserted with SQLite enforcing the keys: no orphans.
const PROJ_ROWS: &str = r#"
PRAGMA foreign_keys = ON;
INSERT INTO unit_of_measure VALUES ('EPSG','9001','metre',0), ('EPSG','9102','degree',0),
  ('EPSG','9201','unity',0), ('PROJ','ppm_per_year','parts per million per year',0);
INSERT INTO celestial_body VALUES ('PROJ','EARTH','Earth');
INSERT INTO ellipsoid VALUES ('EPSG','7030','WGS 84','PROJ','EARTH','EPSG','9001',0);
INSERT INTO extent VALUES ('EPSG','1262','World',0);
INSERT INTO scope VALUES ('EPSG','1024','Not known.',0);
INSERT INTO prime_meridian VALUES ('EPSG','8901','Greenwich','EPSG','9102',0);
INSERT INTO geodetic_datum VALUES ('EPSG','6326','World Geodetic System 1984','EPSG','7030','EPSG','8901',0),
  ('EPSG','1166','WGS 84 (Transit)','EPSG','7030','EPSG','8901',0);
INSERT INTO geodetic_datum_ensemble_member VALUES ('EPSG','6326','EPSG','1166',1);
INSERT INTO vertical_datum VALUES ('EPSG','5100','Mean Sea Level',0), ('EPSG','1027','EGM2008 geoid',0);
INSERT INTO vertical_datum_ensemble_member VALUES ('EPSG','5100','EPSG','1027',1);
INSERT INTO coordinate_system VALUES ('EPSG','6422','ellipsoidal',2), ('EPSG','4400','Cartesian',2),
  ('EPSG','6499','vertical',1);
INSERT INTO axis VALUES ('EPSG','106','Geodetic latitude','EPSG','6422',1,'EPSG','9102'),
  ('EPSG','1','Easting','EPSG','4400',1,'EPSG','9001');
INSERT INTO geodetic_crs VALUES ('EPSG','4326','WGS 84','geographic 2D','EPSG','6422','EPSG','6326',0);
INSERT INTO vertical_crs VALUES ('EPSG','5714','MSL height','EPSG','6499','EPSG','5100',0);
INSERT INTO conversion_method VALUES ('EPSG','9807','Transverse Mercator');
INSERT INTO conversion_table VALUES ('EPSG','16031','UTM zone 31N','EPSG','9807',
  'EPSG','9102','EPSG','9102','EPSG','9201','EPSG','9001','EPSG','9001',NULL,NULL,NULL,NULL,0);
INSERT INTO projected_crs VALUES ('EPSG','32631','WGS 84 / UTM zone 31N','EPSG','4400','EPSG','4326',
  'EPSG','16031',0);
INSERT INTO compound_crs VALUES ('EPSG','9705','WGS 84 + MSL height','EPSG','4326','EPSG','5714',0);
INSERT INTO coordinate_operation_method VALUES ('EPSG','9603','Geocentric translations'),
  ('PROJ','PROJString','PROJ string');
INSERT INTO helmert_transformation_table VALUES ('EPSG','1133','NAD83 to WGS 84 (1)','EPSG','9603',
  'EPSG','4326','EPSG','4326','EPSG','9001','EPSG','9102',NULL,NULL,NULL,NULL,NULL,NULL,
  'PROJ','ppm_per_year',NULL,NULL,NULL,NULL,0);
INSERT INTO grid_transformation VALUES ('EPSG','15851','NAD27 to WGS 84 (79)','conus','EPSG','4326',0);
INSERT INTO grid_packages VALUES ('proj-datumgrid','https://download.osgeo.org/proj/');
INSERT INTO grid_alternatives VALUES ('conus','us_noaa_conus.tif','proj-datumgrid');
INSERT INTO other_transformation VALUES ('PROJ','CRS84_TO_EPSG_4326','OGC:CRS84 to WGS 84',
  'EPSG','9001',NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,'EPSG','4326',0);
INSERT INTO usage VALUES ('EPSG','13000','geodetic_crs','EPSG','4326','EPSG','1262','EPSG','1024');
"#;

/// Issue 26, Found 5: proj.db's shape (PROJ's public schema, trimmed in
/// tests/fixtures/proj_db_shape.sql) keeps every one of its 50 foreign
/// keys: a parent `code` holding one text code and its children holding
/// only integers are typed as one, and `verify` passes.
#[test]
fn proj_db_keeps_every_foreign_key() {
    let schema = include_str!("../fixtures/proj_db_shape.sql");
    let (dir, src) = sqlite_fixture(&format!("{schema}{PROJ_ROWS}"));
    // The source's keys, as SQLite lists them: "table(cols) → parent(cols)".
    let conn = rusqlite::Connection::open(&src).unwrap();
    let mut want: Vec<String> = conn
        .prepare(
            "SELECT m.name, f.\"table\", group_concat(f.\"from\", ','), group_concat(f.\"to\", ',') \
             FROM sqlite_master m, pragma_foreign_key_list(m.name) f \
             WHERE m.type = 'table' GROUP BY m.name, f.id ORDER BY 1, 3",
        )
        .unwrap()
        .query_map([], |r| {
            Ok(format!(
                "{}({}) → {}({})",
                r.get::<_, String>(0)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(3)?
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    want.sort();
    assert_eq!(want.len(), 50, "{want:#?}");

    let toml = dir.path().join("p.toml");
    let o = init_ok(&src, &toml);
    let err = stderr(&o);
    assert!(
        !err.contains("foreign key ("),
        "a key not carried over:\n{err}"
    );
    // Said on the screen: a child typed with its parent's text codes.
    assert!(
        err.contains("`ellipsoid`.`uom_code`: text, not bigint"),
        "{err}"
    );
    let db = TestDb::new();
    assert_exit(&run_pipeline(&toml, &db.url, &[]), 0, &[]);
    let mut got: Vec<String> = db
        .query(
            "SELECT c.conrelid::regclass::text, \
               (SELECT string_agg(a.attname, ',' ORDER BY k.n) FROM unnest(c.conkey) WITH ORDINALITY k(att, n) \
                JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.att), \
               c.confrelid::regclass::text, \
               (SELECT string_agg(a.attname, ',' ORDER BY k.n) FROM unnest(c.confkey) WITH ORDINALITY k(att, n) \
                JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.att), \
               c.convalidated \
             FROM pg_constraint c WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace",
        )
        .into_iter()
        .map(|r| {
            assert_eq!(r[4], "t", "not validated: {r:?}");
            format!("{}({}) → {}({})", r[0], r[1], r[2], r[3])
        })
        .collect();
    got.sort();
    assert_eq!(got, want);
    // The codes read back as SQLite holds them.
    assert_eq!(
        db.scalar("SELECT string_agg(code, ' ' ORDER BY code) FROM unit_of_measure"),
        "9001 9102 9201 ppm_per_year"
    );
    let o = sqlite2pg(&["verify", toml.to_str().unwrap(), "--target", &db.url]);
    assert_exit(&o, 0, &["50 foreign key(s) checked"]);
}
