// Package stats turns a year of anonymous registry records into the tables and charts of
// section 2 of the team's annual report ("Meldingen, melders, aard en opvolging"): the
// number of reports and their first contact form, self or third-party reporters, gender,
// faculty (with a pie chart), the nature of the reports with the previous year beside
// them (bar chart), the relation between reporter and the person reported, and the
// follow-up (bar chart).
//
// Compute counts and protects; the Write functions render a Report as Markdown (with SVG
// chart files beside it), a self-contained HTML page with inline SVG, or CSV. ReadCSV
// reads the hand counts of earlier years for import into the registry.
//
// # Percentages
//
// Percentages are whole numbers, rounded half up (12.5 % becomes 13 %), as in the report;
// when the rounded percentages of a column do not add up to 100 the table says so, as the
// report does under its figures. A percentage is of the reports for which the answer is
// recorded: reports without it (a skipped question, a hand count without that column)
// are listed as "not recorded" beside the percentages, not in them, and the follow-up
// percentages are of closed cases, with the cases still open stated.
//
// # Small numbers
//
// With Options.MinCell = K (DefaultMinCell unless set), a count from 1 to K-1 is shown as
// "<K", and its percentage as "×". Hiding one cell is not enough: the total minus the
// other cells would give it back. So each table hides further cells ("×", smallest first)
// until no hidden small cell can be narrowed down from what is shown to less than "1 to
// K-1" — by the total, the other cells, the knowledge that a "×" cell is at least K, or a
// subtotal (see protect). Zero counts are shown: they identify nobody. Sorted tables put
// hidden rows last in a fixed order, since a place in the ranking would betray a size;
// charts draw the hidden cells as one slice or not at all, since a bar's length is a
// number too. A Report never holds the value of a hidden cell, so no renderer can leak
// it. "Not recorded" and "still open" are not protected: they say nothing about anyone.
//
// The tables are one-way counts of the same reports (no cell of one table is a sum of
// cells of another), so they are protected one by one; the only sums are the breakdowns
// (sexual violence by kind, third parties by who), which are shown only under a parent
// count that is itself shown exactly, and are protected against it.
package stats
