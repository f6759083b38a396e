package admin

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"

	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/pinsfile"
)

// importReport says what a bulk import did and which rows were refused.
// Row errors never hold a PIN or any other value of the row.
type importReport struct {
	// Imported says whether anything was written.
	Imported bool `json:"imported"`
	// Rows is the number of rows read (good and bad).
	Rows      int                 `json:"rows"`
	Inserted  int                 `json:"inserted"`
	Updated   int                 `json:"updated"`
	Deleted   int                 `json:"deleted"`
	RowErrors []pinsfile.RowError `json:"row_errors"`
}

// importProblem is the 422 answer of an import that wrote nothing: a
// problem document extended with the import report.
type importProblem struct {
	Problem
	importReport
}

// boolParam reads an optional boolean query parameter.
func boolParam(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, invalid(name, "must be true or false")
	}
	return b, nil
}

// importEntries bulk-imports caller entries from CSV or JSON. It is all
// or nothing: any row error imports nothing (422 with the row report).
// partial=true imports the good rows and reports the bad ones.
// replace=true also deletes the gate's entries that are not in the file;
// it refuses files with row errors even with partial=true, so that a typo
// cannot delete an entry.
func (s *server) importEntries(w http.ResponseWriter, r *http.Request) {
	g, err := s.gate(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	partial, err1 := boolParam(r, "partial")
	replace, err2 := boolParam(r, "replace")
	if err := errors.Join(err1, err2); err != nil {
		s.writeError(w, r, err)
		return
	}
	read := pinsfile.ReadCSV
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case isCSV(mt):
	case mt == "application/json":
		read = pinsfile.ReadJSON
	default:
		writeUnsupportedImport(w, "the caller table", "text/csv or application/json")
		return
	}
	body := http.MaxBytesReader(w, r.Body, s.maxImp)
	entries, rowErrs, err := read(body, pinsfile.Options{GateID: g.ID, Region: s.regionOf(g), Numbers: g.Numbers, Location: g.Location(), Hasher: s.hasher,
		MinDigits: g.Dialogue.MinDigits, MaxDigits: g.Dialogue.MaxDigits, RejectWeak: g.Dialogue.RejectWeak})
	if err != nil {
		s.writeImportReadError(w, r, err)
		return
	}
	rep := newImportReport(len(entries), rowErrs)
	switch {
	case rep.Rows == 0:
		s.writeError(w, r, invalid("body", "the file holds no rows"))
		return
	case len(rowErrs) > 0 && (!partial || replace || len(entries) == 0):
		why := "nothing was imported"
		switch {
		case replace:
			why += " (replace=true needs a file without errors)"
		case !partial:
			why += " (partial=true imports the good rows)"
		}
		s.writeImportProblem(w, rep, pinsfile.DescribeRowErrors(rowErrs)+"; "+why)
		return
	}
	res, err := s.store.ImportEntries(r.Context(), g.ID, entries, gate.ImportOptions{Replace: replace})
	if err != nil {
		s.writeError(w, r, fmt.Errorf("import entries of gate %q: %w", g.ID, err))
		return
	}
	rep.imported(res)
	s.log.Info("admin: entries imported", "gate", g.ID, "rows", rep.Rows, "inserted", res.Inserted, "updated", res.Updated,
		"deleted", res.Deleted, "row_errors", len(rowErrs), "by", tokenFrom(r.Context()).ID)
	writeJSON(w, http.StatusOK, rep)
}

// newImportReport is the report of a file read into good rows and row
// errors (RowErrors is never null in the JSON).
func newImportReport(good int, rowErrs []pinsfile.RowError) importReport {
	rep := importReport{Rows: good + pinsfile.RowsWithErrors(rowErrs), RowErrors: rowErrs}
	if rep.RowErrors == nil {
		rep.RowErrors = []pinsfile.RowError{}
	}
	return rep
}

// imported records in rep what the store wrote.
func (rep *importReport) imported(res gate.ImportResult) {
	rep.Imported, rep.Inserted, rep.Updated, rep.Deleted = true, res.Inserted, res.Updated, res.Deleted
}

// isCSV says whether an import body of media type mt is read as CSV.
func isCSV(mt string) bool {
	switch mt {
	case "text/csv", "application/csv", "text/plain":
		return true
	}
	return false
}

// writeUnsupportedImport answers 415 to an import body of another media
// type than those it takes (what is imported, e.g. "the accounts", and
// the media types, e.g. "text/csv").
func writeUnsupportedImport(w http.ResponseWriter, what, types string) {
	writeProblem(w, Problem{Type: problemBlank, Title: http.StatusText(http.StatusUnsupportedMediaType), Status: http.StatusUnsupportedMediaType,
		Detail: "send " + what + " as " + types, Errors: []FieldProblem{{Field: "body", Problem: "Content-Type must be " + types}}})
}

// writeImportReadError answers an import whose body could not be read: a
// body over the size limit as writeError does, any other failure as a
// validation error of the body.
func (s *server) writeImportReadError(w http.ResponseWriter, r *http.Request, err error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		s.writeError(w, r, err)
		return
	}
	s.writeError(w, r, invalid("body", "%s", err.Error()))
}

func (s *server) writeImportProblem(w http.ResponseWriter, rep importReport, detail string) {
	p := importProblem{Problem: Problem{Type: problemValidation, Title: http.StatusText(http.StatusUnprocessableEntity),
		Status: http.StatusUnprocessableEntity, Detail: detail}, importReport: rep}
	for _, e := range rep.RowErrors {
		p.Errors = append(p.Errors, FieldProblem{Field: fmt.Sprintf("rows[%d].%s", e.Row, e.Field), Problem: e.Problem})
	}
	writeDoc(w, p.Status, "application/problem+json", p)
}

// exportEntries writes the gate's caller table as CSV, without PINs.
func (s *server) exportEntries(w http.ResponseWriter, r *http.Request) {
	g, err := s.gate(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	const pageSize = 1000
	var all []*gate.Entry
	for off := 0; ; off += pageSize {
		es, total, err := s.store.ListEntries(r.Context(), g.ID, gate.EntryFilter{Offset: off, Limit: pageSize})
		if err != nil {
			s.writeError(w, r, fmt.Errorf("export entries of gate %q: %w", g.ID, err))
			return
		}
		all = append(all, es...)
		if len(es) < pageSize || off+len(es) >= total {
			break
		}
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="vipgate-%s-pins.csv"`, g.ID))
	if err := pinsfile.WriteCSV(w, all); err != nil {
		s.log.Error("admin: export entries: write failed", "gate", g.ID, "err", err)
	}
}
