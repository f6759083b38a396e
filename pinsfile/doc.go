// Package pinsfile reads and writes caller tables as files: the CSV (or
// JSON) that the admin API's bulk upload and `vipgate pins import` take,
// and the CSV that `vipgate pins export` writes. Reading normalises each
// caller with the gate's numbering, checks the PIN rules and hashes the
// PINs on worker goroutines; a bad row becomes a RowError that names the
// row and the field, never a value of the row.
//
// The rules themselves (what a valid PIN, caller or validity date is) live
// in package gate; pinsfile imports gate and nothing that talks to the
// outside world.
package pinsfile
