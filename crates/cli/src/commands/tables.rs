//! Tables on a terminal, the same for every command that prints one.

use comfy_table::{ContentArrangement, Table};

/// Narrowest terminal a table is wrapped to; narrower (or unknown, or a
/// terminal reporting 0 columns), it is printed at its natural width.
const MIN_WIDTH: u16 = 60;

/// Wraps `table` to the terminal's width when that is known and usable.
pub fn fit_to_terminal(table: &mut Table) {
    let arrangement = match table.width() {
        Some(w) if w >= MIN_WIDTH => ContentArrangement::Dynamic,
        _ => ContentArrangement::Disabled,
    };
    table.set_content_arrangement(arrangement);
}
