package console

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vipgate/vipgate/admin"
)

// pageSize is the PIN table's page.
const pageSize = 50

type entryView struct {
	ID         int64
	Caller     string
	Label      string
	Kind       string
	Priority   int
	Target     string
	ValidFrom  time.Time `json:"valid_from"`
	ValidUntil time.Time `json:"valid_until"`
}

type rowError struct {
	Row     int
	Field   string
	Problem string
}

type pinsData struct {
	Gate       string
	Q          string
	Normalised string
	Items      []entryView
	Total      int
	After      string
	Next       string
	First      string
	Errs       map[string]string
	RowErrs    []rowError
	Form       map[string]string
	Edit       int64
	// EditForm and EditErrs are the edited row's typed values and
	// problems after a refused save; Form and Errs are the add form's.
	EditForm map[string]string
	EditErrs map[string]string
	CanWrite bool
}

func problem(field, text string) *admin.Problem {
	return &admin.Problem{Title: "Unprocessable Entity", Status: http.StatusUnprocessableEntity, Errors: []admin.FieldProblem{{Field: field, Problem: text}}}
}

// pinsData reads a page of the caller table for the search q: the page
// after the pattern after (keyset paging, fast at any depth).
func (c *Console) pinsData(r *http.Request, s *session, gateID, q, after string) (*pinsData, *result) {
	d := &pinsData{Gate: gateID, Q: q, After: after, CanWrite: can(s, "POST", "/gates/{gate}/pins")}
	aq := url.Values{}
	if q != "" {
		aq.Set("caller", q)
	}
	if after != "" {
		aq.Set("after", after)
	}
	if q == "" {
		// Without a search the table is paged, not counted: counting a
		// million entries takes longer than showing a page of them.
		aq.Set("no_total", "true")
	}
	aq.Set("limit", strconv.Itoa(pageSize))
	var p struct {
		Items     []entryView
		Total     int
		Caller    string
		NextAfter string `json:"next_after"`
	}
	if res := c.get(r, s, "/gates/"+url.PathEscape(gateID)+"/pins?"+aq.Encode(), &p); res != nil {
		if res.problem == nil || len(res.problem.Errors) == 0 {
			return nil, res
		}
		d.Errs = res.fields()
		return d, nil
	}
	d.Items, d.Total, d.Normalised = p.Items, p.Total, p.Caller
	link := func(after string) string {
		v := url.Values{}
		if q != "" {
			v.Set("q", q)
		}
		if after != "" {
			v.Set("after", after)
		}
		return "/gates/" + url.PathEscape(gateID) + "/pins?" + v.Encode()
	}
	if p.NextAfter != "" {
		d.Next = link(p.NextAfter)
	}
	if after != "" {
		d.First = link("")
	}
	return d, nil
}

func (c *Console) pins(w http.ResponseWriter, r *http.Request, s *session) {
	d, res := c.pinsData(r, s, r.PathValue("gate"), strings.TrimSpace(r.URL.Query().Get("q")), r.URL.Query().Get("after"))
	if res != nil {
		c.fail(w, r, s, res)
		return
	}
	d.Edit, _ = strconv.ParseInt(r.URL.Query().Get("edit"), 10, 64)
	status := http.StatusOK
	if d.Errs != nil {
		status = http.StatusUnprocessableEntity
	}
	c.render(w, r, s, status, "pins", r.PathValue("gate"), d, "", "")
}

// entryBody is the API body of an entry form; the PIN only when typed.
// An update replaces the entry, so the edit form carries the kind, the
// priority and the target it does not show.
func entryBody(r *http.Request) map[string]any {
	b := map[string]any{"caller": r.PostForm.Get("caller"), "label": r.PostForm.Get("label"),
		"valid_from": r.PostForm.Get("valid_from"), "valid_until": r.PostForm.Get("valid_until")}
	for _, f := range []string{"kind", "target"} {
		if v := r.PostForm.Get(f); v != "" {
			b[f] = v
		}
	}
	if n, err := strconv.Atoi(strings.TrimSpace(r.PostForm.Get("priority"))); err == nil {
		b["priority"] = n
	}
	if pin := r.PostForm.Get("pin"); pin != "" {
		b["pin"] = pin
	}
	return b
}

// entryForm is what was typed into an entry form, without the PIN, to
// show again beside its problems.
func entryForm(r *http.Request) map[string]string {
	m := map[string]string{}
	for _, f := range []string{"caller", "label", "kind", "priority", "target", "valid_from", "valid_until"} {
		m[f] = r.PostForm.Get(f)
	}
	return m
}

func (c *Console) pinWrite(w http.ResponseWriter, r *http.Request, s *session, method, path string) {
	_ = r.ParseForm()
	gateID := r.PathValue("gate")
	res := c.call(r, s, method, path, entryBody(r), "")
	if res.ok() {
		redirect(w, r, s, "/gates/"+url.PathEscape(gateID)+"/pins?q="+url.QueryEscape(r.PostForm.Get("caller")), translate(lang(r), "Saved."))
		return
	}
	if res.problem == nil || len(res.problem.Errors) == 0 {
		c.fail(w, r, s, res)
		return
	}
	// An edit is shown again on the page it came from, its problems at its
	// own fields; an add below the table.
	edit, _ := strconv.ParseInt(r.PathValue("entry"), 10, 64)
	q, after := "", ""
	if edit != 0 {
		q, after = strings.TrimSpace(r.PostForm.Get("q")), r.PostForm.Get("after")
	}
	d, res2 := c.pinsData(r, s, gateID, q, after)
	if res2 != nil {
		c.fail(w, r, s, res2)
		return
	}
	if edit != 0 {
		d.Edit, d.EditForm, d.EditErrs = edit, entryForm(r), res.fields()
	} else {
		d.Form, d.Errs = entryForm(r), res.fields()
	}
	c.render(w, r, s, res.status, "pins", gateID, d, "", res.message())
}

func (c *Console) pinAdd(w http.ResponseWriter, r *http.Request, s *session) {
	c.pinWrite(w, r, s, http.MethodPost, "/gates/"+url.PathEscape(r.PathValue("gate"))+"/pins")
}

func (c *Console) pinUpdate(w http.ResponseWriter, r *http.Request, s *session) {
	c.pinWrite(w, r, s, http.MethodPut, "/gates/"+url.PathEscape(r.PathValue("gate"))+"/pins/"+url.PathEscape(r.PathValue("entry")))
}

func (c *Console) pinDelete(w http.ResponseWriter, r *http.Request, s *session) {
	gateID := r.PathValue("gate")
	res := c.call(r, s, http.MethodDelete, "/gates/"+url.PathEscape(gateID)+"/pins/"+url.PathEscape(r.PathValue("entry")), nil, "")
	if !res.ok() {
		c.fail(w, r, s, res)
		return
	}
	redirect(w, r, s, "/gates/"+url.PathEscape(gateID)+"/pins", translate(lang(r), "Deleted."))
}

var rowFieldRE = regexp.MustCompile(`^rows\[(\d+)\]\.(.*)$`)

// pinImport sends an uploaded CSV to the API's import, which writes all
// rows or none; its per-row errors are shown in a table.
func (c *Console) pinImport(w http.ResponseWriter, r *http.Request, s *session) {
	gateID := r.PathValue("gate")
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
	file, _, err := r.FormFile("csv")
	var res *result
	if err != nil {
		res = &result{status: http.StatusUnprocessableEntity, problem: problem("csv", "choose a CSV file")}
	} else {
		defer file.Close()
		path := "/gates/" + url.PathEscape(gateID) + "/pins/import"
		if r.FormValue("replace") == "on" {
			path += "?replace=true"
		}
		res = c.call(r, s, http.MethodPost, path, file, "text/csv")
		if res.ok() {
			var rep struct{ Rows, Inserted, Updated, Deleted int }
			_ = json.NewDecoder(bytes.NewReader(res.body)).Decode(&rep)
			msg := translate(lang(r), "Imported.") + " " + strconv.Itoa(rep.Rows) + " rows: +" + strconv.Itoa(rep.Inserted) +
				" ~" + strconv.Itoa(rep.Updated) + " -" + strconv.Itoa(rep.Deleted)
			redirect(w, r, s, "/gates/"+url.PathEscape(gateID)+"/pins", msg)
			return
		}
	}
	if res.problem == nil {
		c.fail(w, r, s, res)
		return
	}
	d, res2 := c.pinsData(r, s, gateID, "", "")
	if res2 != nil {
		c.fail(w, r, s, res2)
		return
	}
	d.Errs = map[string]string{}
	for _, f := range res.problem.Errors {
		if m := rowFieldRE.FindStringSubmatch(f.Field); m != nil {
			n, _ := strconv.Atoi(m[1])
			d.RowErrs = append(d.RowErrs, rowError{Row: n, Field: m[2], Problem: f.Problem})
		} else {
			d.Errs["csv"] = strings.TrimPrefix(f.Field+": "+f.Problem, ": ")
		}
	}
	sort.SliceStable(d.RowErrs, func(i, j int) bool { return d.RowErrs[i].Row < d.RowErrs[j].Row })
	c.render(w, r, s, res.status, "pins", gateID, d, "", translate(lang(r), "Nothing was imported; fix these rows:")+" "+res.message())
}

func (c *Console) pinExport(w http.ResponseWriter, r *http.Request, s *session) {
	c.passThrough(w, r, s, "/gates/"+url.PathEscape(r.PathValue("gate"))+"/pins/export")
}
