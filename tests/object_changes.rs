//! Migrations that drop and rename objects other than tables and columns (issue #12):
//! constraints, views, enum labels, triggers, functions, sequences and indexes, reviewed the
//! way a user runs `migsafe check` on a sqlx project, and once against a real copy.

mod common;

use common::TestDb;
use migsafe::config::Settings;
use migsafe::model::{Evidence, Report};
use migsafe::review::{check_on_target_with, check_paths, Target};
use std::path::PathBuf;

fn findings(report: &Report) -> Vec<(String, usize, &'static str)> {
    report
        .findings
        .iter()
        .map(|f| {
            let file = f.file.rsplit('/').next().unwrap_or_default().to_string();
            (file, f.line, f.rule)
        })
        .collect()
}

fn message<'a>(report: &'a Report, rule: &str) -> &'a str {
    report
        .findings
        .iter()
        .find(|f| f.rule == rule)
        .map(|f| f.message.as_str())
        .unwrap_or_else(|| panic!("no {rule} finding in {:?}", findings(report)))
}

#[test]
fn renames_and_drops_of_existing_objects_are_reported_and_this_migrations_own_are_not() {
    let report = check_paths(
        &[PathBuf::from("fixtures/object_changes/migrations")],
        &Settings::default(),
        &mut std::io::empty(),
    )
    .expect("the fixture project loads");
    let s = |v: &str| v.to_string();
    assert_eq!(
        findings(&report),
        vec![
            (
                s("20241002101500_spell_order_status_british.sql"),
                5,
                "rename-object"
            ),
            (
                s("20241003090000_retire_legacy_revenue_view.sql"),
                10,
                "rename-object"
            ),
            (
                s("20241003090000_retire_legacy_revenue_view.sql"),
                11,
                "drop-view"
            ),
            // Redefining invoices_customer_id_fkey in one statement is not a drop; the unique
            // constraint dropped with it is.
            (
                s("20241004120000_cascade_invoice_deletes.sql"),
                5,
                "drop-constraint"
            ),
            // The trigger, function and sequence created and renamed in 20241005 are its own;
            // so is the index renamed in 20241006, whose first name is too long.
            (
                s("20241006110000_create_subscription_events.sql"),
                10,
                "identifier-too-long"
            ),
        ]
    );
    // The drop of a renamed view says which view it really is.
    assert!(
        message(&report, "drop-view").contains(
            "`reporting.monthly_revenue_legacy` (renamed from `reporting.monthly_revenue` on line 10)"
        ),
        "{}",
        message(&report, "drop-view")
    );
    let dropped = report
        .findings
        .iter()
        .find(|f| f.rule == "drop-constraint")
        .unwrap();
    assert!(
        dropped
            .message
            .contains("`invoices_number_key` (named like a unique constraint"),
        "{}",
        dropped.message
    );
    // The safe version names the user's own table and constraint.
    assert!(
        dropped
            .instead
            .contains("ALTER TABLE invoices DROP CONSTRAINT IF EXISTS invoices_number_key;"),
        "{}",
        dropped.instead
    );
    assert!(
        message(&report, "identifier-too-long").contains(
            "PostgreSQL keeps `index_subscription_events_on_subscription_id_and_event_type_and`"
        ),
        "{}",
        message(&report, "identifier-too-long")
    );
}

#[tokio::test]
async fn the_copy_tells_what_kind_of_constraint_is_dropped() {
    let db = TestDb::with_fixture("objchg", "object_changes/catalog/setup.sql").await;
    let path = PathBuf::from(
        "fixtures/object_changes/catalog/20241007090000_allow_invoice_number_reuse.sql",
    );
    let settings = Settings::default();

    // From the SQL alone the hand-picked name says nothing.
    let alone = check_paths(
        std::slice::from_ref(&path),
        &settings,
        &mut std::io::empty(),
    )
    .expect("the migration loads");
    let static_message = message(&alone, "drop-constraint");
    assert!(!static_message.contains("unique"), "{static_message}");

    let target = Target {
        url: db.url.clone(),
        execute_on: None,
        analyze: false,
    };
    let report = check_on_target_with(
        std::slice::from_ref(&path),
        &settings,
        &mut std::io::empty(),
        &target,
        false,
        None,
    )
    .await
    .expect("the catalog review runs");
    assert_eq!(report.evidence, Evidence::Catalog);
    let catalog_message = message(&report, "drop-constraint");
    assert!(
        catalog_message
            .contains("`one_number_per_tenant` (a unique constraint: its index goes with it"),
        "{catalog_message}"
    );
}

#[tokio::test]
async fn dropping_a_key_that_foreign_keys_depend_on_is_an_error_because_postgresql_refuses() {
    let db = TestDb::with_fixture("objchg_fk", "object_changes/catalog/setup.sql").await;
    let path =
        PathBuf::from("fixtures/object_changes/catalog/20241008100000_key_customers_by_email.sql");
    let target = Target {
        url: db.url.clone(),
        execute_on: None,
        analyze: false,
    };
    let report = check_on_target_with(
        std::slice::from_ref(&path),
        &Settings::default(),
        &mut std::io::empty(),
        &target,
        false,
        None,
    )
    .await
    .expect("the catalog review runs");
    let finding = report
        .findings
        .iter()
        .find(|f| f.rule == "drop-constraint")
        .unwrap_or_else(|| panic!("no drop-constraint in {:?}", findings(&report)));
    assert_eq!(finding.severity, migsafe::model::Severity::Error);
    assert!(
        finding
            .message
            .contains("`orders_customer_ref` on public.orders"),
        "{}",
        finding.message
    );
    // What the finding predicts is what the server does with the statement.
    let refused = db
        .try_execute("ALTER TABLE customers DROP CONSTRAINT customers_pk")
        .await
        .expect_err("PostgreSQL drops a key that a foreign key depends on");
    assert!(
        refused.to_string().contains("other objects depend on it"),
        "{refused}"
    );
}
