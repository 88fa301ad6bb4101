// `sqlx::migrate!("./migrations")` embeds that folder when the crate is compiled; Cargo cannot
// see it read the folder, so tell it: a migration added (or changed) there rebuilds the crate.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
