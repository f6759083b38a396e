// Package auditsql is the audit log's SQL that the stores share: the
// conditions an AuditFilter stands for, its page size and keyset cursor,
// the encoding of an entry's changes and the mapping of a row back to a
// gate.AuditEntry. What differs between the databases stays in each store
// and comes in through a Dialect: how a parameter is written ("?" or
// "$1"), how a time is stored, how the changes column reads as text.
//
// Package auditsql imports only the domain (gate) and the standard
// library; it opens no database and knows no driver.
package auditsql
