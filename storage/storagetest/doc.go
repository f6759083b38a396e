// Package storagetest is the conformance suite that every gate.Store of
// vipgate must pass. A store's own tests call Run with a function that opens
// a fresh, empty store:
//
//	func TestConformance(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T) gate.Store {
//			s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "vipgate.db"), sqlite.Options{})
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// The suite uses nothing but the gate.Store interface and the gate sentinel
// errors, so the SQLite and the PostgreSQL store run it unchanged. What it
// pins down beyond the interface comments:
//
//   - Times are compared with time.Equal at millisecond precision; stores may
//     return them in any location. Durations must survive exactly.
//   - ListEntries orders by pattern in byte order ('*' sorts before digits);
//     a PostgreSQL store needs COLLATE "C" on the pattern column.
//   - Operations on a gate that does not exist (PutEntry, ImportEntries,
//     SetOverride, UpdateGate, DeleteGate) return ErrNotFound, as do
//     DeleteEntry, DeletePrompt and RevokeToken of something missing.
//   - ImportEntries rejects an entry without a pattern or PIN hash with
//     ErrInvalid and a pattern that occurs twice in one import with
//     ErrConflict; in both cases nothing is written.
//   - gate.AnyCaller is a caller key like any other for AddFailure,
//     ResetFailures, SetLockout and ClearLockout: gate.Flow records every
//     failed dialogue under the caller's number and under AnyCaller, so
//     the AnyCaller count is the gate-wide count (anonymous callers
//     included). Failures of one key never count for another.
//   - ReserveGuess is all or nothing: it counts the guess under every key
//     only when each key has room below its limit in the window, and
//     returns the counts (including the guess when it counted it). Many
//     concurrent reservations of one key never push it past its limit.
//     Guesses are failures of their key: AddFailure counts them,
//     ResetFailures and ClearLockout forget them, ReleaseGuess takes back
//     one at its time and leaves the others.
//   - ReadCall answers what GetLockout and LookupEntry answer for the same
//     keys, number and time, in one read; a key without a lockout and a
//     number without an entry are no error. It also returns the grants
//     usable at its time of the number and of anyone, with their hashes.
//   - Grants: ListGrants never returns a hash; UseGrant counts a use only
//     while the grant is valid and below its MaxUses, atomically: however
//     many goroutines (or, with UseGrantRace, store instances on one
//     database) use a grant at once, exactly MaxUses succeed and the rest
//     get ErrNotFound. A gate takes at most gate.MaxGrants usable grants
//     (ErrConflict); deleting a gate deletes its grants.
//   - SetLockout replaces the lockout of the same gate and caller.
//     ClearLockout of a gate and caller without a lockout is ErrNotFound.
//   - LogCall may queue rows and need not set the ID, but ListCalls sees
//     every row logged before it was called. ImportEntries need not set
//     the entries' IDs.
//   - PruneCalls deletes exactly the rows with At before its time, rows
//     logged just before it included, and counts them; a row logged after
//     a prune gets an ID no row has had, even when the prune emptied the
//     call log.
//   - Gates returned by GetGate and ListGates are the caller's to modify:
//     changing them does not change the store (stores that cache must copy).
//   - No stored or returned field holds a PIN in clear.
//
// Package storagetest imports only the standard library and gate; it must
// not import a database driver or any store package.
package storagetest
