package arch

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
)

const module = "github.com/vipgate/vipgate/"

// pkg is the part of `go list -json` the rules read.
type pkg struct {
	ImportPath   string
	Standard     bool
	Imports      []string // non-test imports
	Deps         []string // transitive non-test dependencies
	TestImports  []string
	XTestImports []string
}

// rel returns a package path relative to the module ("gate",
// "storage/sqlite"), or "" for a package outside it.
func rel(path string) string {
	if r, ok := strings.CutPrefix(path, module); ok {
		return r
	}
	return ""
}

// goList runs go list over the whole module, once per test binary.
var goList = sync.OnceValues(func() ([]byte, error) {
	out, err := exec.Command("go", "list", "-json", "github.com/vipgate/vipgate/...").Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		err = fmt.Errorf("%w\n%s", err, ee.Stderr)
	}
	return out, err
})

// listPackages returns every package of the module by its relative path.
func listPackages(t *testing.T) map[string]*pkg {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH; the architecture check needs `go list`")
	}
	out, err := goList()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string]*pkg{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		pkgs[rel(p.ImportPath)] = &p
	}
	for _, want := range []string{"gate", "pinsfile", "ari", "agi", "webhook", "dbident", "admin", "storage/sqlite", "storage/postgres", "cmd/vipgate"} {
		if pkgs[want] == nil {
			t.Fatalf("go list did not report package %s; the rules below would check nothing", want)
		}
	}
	return pkgs
}

// adapters are the packages at the edge: each talks to one outside thing
// (Asterisk over ARI or FastAGI, a webhook, HTTP clients of the admin API,
// a database) and knows the domain, never another adapter.
var adapters = []string{"ari", "agi", "webhook", "dbident", "admin", "storage/sqlite", "storage/postgres"}

// stdDrivers are the standard-library packages that speak to a network
// peer, a database or another program; drivers are the modules that do, or
// route HTTP. The domain must not reach them, even indirectly (net/url and
// net/netip are plain data and allowed).
var (
	stdDrivers = []string{"net", "net/http", "database/sql", "os/exec"}
	drivers    = []string{
		"github.com/go-chi/chi/v5", "github.com/jackc/pgx/v5", "modernc.org/sqlite",
		"github.com/coder/websocket", "github.com/prometheus/client_golang",
	}
	// dbDrivers are what the admin API must not reach: it sees the
	// database only through gate.Store. (database/sql itself comes in
	// through Prometheus' collectors and is no driver.)
	dbDrivers = []string{"github.com/jackc/pgx/v5", "modernc.org/sqlite"}
)

// domainLibraries are the pure libraries (modules, with their packages)
// the domain may import besides the standard library: number parsing and
// the public-holiday rules.
var domainLibraries = []string{"github.com/nyaruka/phonenumbers", "github.com/rickar/cal/v2"}

// under reports whether path is one of mods or a package inside one.
func under(path string, mods []string) bool {
	for _, m := range mods {
		if path == m || strings.HasPrefix(path, m+"/") {
			return true
		}
	}
	return false
}

func isDriver(path string) bool {
	return slices.Contains(stdDrivers, path) || strings.HasPrefix(path, "net/http/") || under(path, drivers)
}

func TestDomainImportsNoTransportDriverOrRouter(t *testing.T) {
	pkgs := listPackages(t)
	std := map[string]bool{}
	for _, name := range []string{"gate"} {
		p := pkgs[name]
		for _, imp := range p.Imports {
			switch {
			case rel(imp) != "":
				t.Errorf("%s imports %s: the domain imports no other vipgate package", name, imp)
			case isDriver(imp):
				t.Errorf("%s imports %s: the domain imports no transport, driver or router", name, imp)
			case strings.Contains(strings.SplitN(imp, "/", 2)[0], "."):
				if !under(imp, domainLibraries) {
					t.Errorf("%s imports %s: only the standard library and %v (pure libraries) are allowed in the domain", name, imp, domainLibraries)
				}
			default:
				std[imp] = true
			}
		}
		for _, dep := range p.Deps {
			if isDriver(dep) {
				t.Errorf("%s depends on %s (indirectly): the domain reaches no transport, driver or router", name, dep)
			}
		}
	}
	if len(std) == 0 {
		t.Fatal("gate imports nothing from the standard library according to go list; the check read no imports")
	}
}

// formats are the packages that read and write the domain's data in a file
// format (the caller-table files of pinsfile): they may import the domain,
// never an adapter, a driver or a router, so that admin and cmd/vipgate
// share them without the one reaching the other's outside world.
var formats = []string{"pinsfile"}

func TestFormatsImportOnlyTheDomain(t *testing.T) {
	pkgs := listPackages(t)
	for _, name := range formats {
		importsOnlyTheDomain(t, pkgs, name, "a file format")
	}
}

// importsOnlyTheDomain checks that package name imports gate and no other
// vipgate package, and reaches no transport, driver or router; what names
// the kind of package in the errors.
func importsOnlyTheDomain(t *testing.T, pkgs map[string]*pkg, name, what string) {
	t.Helper()
	p, ok := pkgs[name]
	if !ok {
		t.Errorf("go list did not report package %s", name)
		return
	}
	if !slices.Contains(p.Imports, module+"gate") {
		t.Errorf("%s does not import gate according to go list; the check read no imports", name)
	}
	for _, imp := range p.Imports {
		if r := rel(imp); r != "" && r != "gate" {
			t.Errorf("%s imports %s: %s imports only the domain (gate)", name, r, what)
		}
	}
	for _, dep := range p.Deps {
		if isDriver(dep) {
			t.Errorf("%s depends on %s: %s reaches no transport, driver or router", name, dep, what)
		}
	}
}

func TestAdaptersDoNotImportEachOther(t *testing.T) {
	pkgs := listPackages(t)
	for _, a := range adapters {
		for _, dep := range pkgs[a].Deps {
			if r := rel(dep); r != "" && r != a && slices.Contains(adapters, r) {
				t.Errorf("%s depends on %s: adapters never import each other (only cmd/vipgate wires them)", a, r)
			}
		}
	}
}

func TestAdminReachesNoDriver(t *testing.T) {
	pkgs := listPackages(t)
	for _, dep := range pkgs["admin"].Deps {
		if r := rel(dep); strings.HasPrefix(r, "storage/") {
			t.Errorf("admin depends on %s: the admin API reaches the database only through gate.Store", r)
		}
		if under(dep, dbDrivers) {
			t.Errorf("admin depends on %s: the admin API reaches no database driver", dep)
		}
	}
}

// The web console is a front end of the admin API: it reads and writes
// only through admin.API (the same role checks, validation and store code
// as the REST API), so it imports the domain and admin and nothing else
// of vipgate: no store, no other adapter.
func TestConsoleGoesThroughTheAdminAPI(t *testing.T) {
	pkgs := listPackages(t)
	p := pkgs["admin/console"]
	if p == nil {
		t.Fatal("go list did not report admin/console")
	}
	checked := 0
	for _, imp := range p.Imports {
		r := rel(imp)
		if r == "" {
			continue
		}
		checked++
		if r != "gate" && r != "admin" {
			t.Errorf("admin/console imports %s: the console reaches everything through admin.API", r)
		}
	}
	if checked == 0 {
		t.Error("admin/console imports nothing of vipgate according to go list; the check read no imports")
	}
	for _, dep := range p.Deps {
		if r := rel(dep); strings.HasPrefix(r, "storage/") || under(dep, dbDrivers) {
			t.Errorf("admin/console depends on %s: it reaches the database only through the admin API", dep)
		}
	}
	if !slices.Contains(pkgs["cmd/vipgate"].Imports, module+"admin/console") {
		t.Error("cmd/vipgate does not import admin/console: vipgate serve would not serve the console")
	}
}

func TestOnlyWiringImportsEverything(t *testing.T) {
	pkgs := listPackages(t)
	// Test support and the binary may wire adapters together; nothing else
	// may import them.
	wiring := func(r string) bool {
		return strings.HasPrefix(r, "cmd/") || r == "internal/e2e" || strings.HasPrefix(r, "deploy/")
	}
	for name, p := range pkgs {
		if name == "" || wiring(name) {
			continue
		}
		for _, imp := range p.Imports {
			r := rel(imp)
			if wiring(r) {
				t.Errorf("%s imports %s: only tests import the binary, the e2e support or deploy/", name, r)
			}
			// Test support (storagetest) may build on other test
			// support (gatetest); nothing else may.
			testSupport := strings.HasSuffix(name, "test")
			if !testSupport && (strings.HasSuffix(r, "test") || strings.HasSuffix(r, "fake")) {
				t.Errorf("%s imports %s in non-test code: test support is for tests", name, r)
			}
		}
	}
}

// TestEventsImportsOnlyTheDomain: the live-event hub sits between the call
// path (gate.Flow publishes to it) and the admin API (which streams it);
// it imports the domain and the standard library only, no transport,
// driver, router or other module, so that both may use it.
func TestEventsImportsOnlyTheDomain(t *testing.T) {
	importsOnlyGateAndStd(t, "events")
}

// importsOnlyGateAndStd checks that package name imports gate and, besides
// it, only the standard library: no other vipgate package, driver or
// module.
func importsOnlyGateAndStd(t *testing.T, name string) {
	t.Helper()
	p, ok := listPackages(t)[name]
	if !ok {
		t.Fatalf("go list did not report package %s", name)
	}
	if !slices.Contains(p.Imports, module+"gate") {
		t.Errorf("%s does not import gate according to go list; the check read no imports", name)
	}
	importsAtMostGateAndStd(t, name, p)
}

// importsAtMostGateAndStd checks that p, package name, imports no vipgate
// package but gate, and no driver or other module.
func importsAtMostGateAndStd(t *testing.T, name string, p *pkg) {
	t.Helper()
	for _, imp := range p.Imports {
		switch r := rel(imp); {
		case r != "" && r != "gate":
			t.Errorf("%s imports %s: it imports only the domain (gate)", name, r)
		case r == "" && (isDriver(imp) || strings.Contains(strings.SplitN(imp, "/", 2)[0], ".")):
			t.Errorf("%s imports %s: only gate and the standard library are allowed", name, imp)
		}
	}
}

// TestCalendarIsAnAdapter: the iCalendar reader (calendar) is the only
// package that imports the iCal and recurrence libraries; it imports only
// the domain (gate) of vipgate, and the domain reaches neither it nor them, so
// that a gate's schedule sees only the closures that come out of it.
func TestCalendarIsAnAdapter(t *testing.T) {
	pkgs := listPackages(t)
	p, ok := pkgs["calendar"]
	if !ok {
		t.Fatal("go list did not report package calendar")
	}
	icalLibs := []string{"github.com/arran4/golang-ical", "github.com/teambition/rrule-go"}
	uses := 0
	for _, imp := range p.Imports {
		if r := rel(imp); r != "" && r != "gate" {
			t.Errorf("calendar imports %s: it imports only the domain (gate)", r)
		}
		if under(imp, icalLibs) {
			uses++
		}
	}
	if uses != len(icalLibs) {
		t.Errorf("calendar imports %d of %v according to go list; the check read no imports", uses, icalLibs)
	}
	for name, q := range pkgs {
		if name == "calendar" || name == "" {
			continue
		}
		for _, imp := range q.Imports {
			if under(imp, icalLibs) {
				t.Errorf("%s imports %s: only package calendar reads iCalendar", name, imp)
			}
		}
	}
	for _, dep := range pkgs["gate"].Deps {
		if rel(dep) == "calendar" || under(dep, icalLibs) {
			t.Errorf("gate depends on %s: the domain sees closures, never the calendar reader", dep)
		}
	}
}

// TestAuthorizerSupportIsShared: the circuit breaker, the answer cache
// and the error wording and classes that the webhook and database identification share import only the
// domain and the standard library, and both authorizers use them (one
// rule in one place, not a copy each).
func TestAuthorizerSupportIsShared(t *testing.T) {
	pkgs := listPackages(t)
	for _, name := range []string{"internal/breaker", "internal/answercache", "internal/autherr"} {
		p, ok := pkgs[name]
		if !ok {
			t.Fatalf("go list did not report package %s", name)
		}
		importsAtMostGateAndStd(t, name, p)
		for _, user := range authorizers(pkgs) {
			if !slices.Contains(pkgs[user].Imports, module+name) {
				t.Errorf("%s does not import %s: the authorizers share one breaker, one cache and one error wording", user, name)
			}
		}
	}
}

// authorizers are the packages that implement gate.Authorizer, those of
// them that go list reports.
func authorizers(pkgs map[string]*pkg) []string {
	var out []string
	for _, name := range []string{"webhook", "dbident"} {
		if pkgs[name] != nil {
			out = append(out, name)
		}
	}
	return out
}

// TestDatabaseIdentIsAnAdapter: the database identification (dbident)
// talks to the administrator's PostgreSQL through pgx and knows only the
// domain and the support it shares with the webhook; the stores are the
// only other packages that use pgx, so that no other part of vipgate
// opens a connection of its own.
func TestDatabaseIdentIsAnAdapter(t *testing.T) {
	pkgs := listPackages(t)
	p := pkgs["dbident"]
	usesPgx := false
	for _, imp := range p.Imports {
		switch r := rel(imp); {
		case r != "" && r != "gate" && r != "internal/breaker" && r != "internal/answercache" && r != "internal/autherr":
			t.Errorf("dbident imports %s: it imports only gate, internal/breaker, internal/answercache and internal/autherr of vipgate", r)
		case under(imp, []string{"github.com/jackc/pgx/v5"}):
			usesPgx = true
		}
	}
	if !usesPgx {
		t.Error("dbident does not import pgx according to go list; the check read no imports")
	}
	for name, q := range pkgs {
		if name == "" || name == "dbident" || strings.HasPrefix(name, "storage/") || strings.HasPrefix(name, "cmd/") || name == "internal/e2e" || name == "internal/pgtest" {
			continue
		}
		for _, imp := range q.Imports {
			if under(imp, []string{"github.com/jackc/pgx/v5"}) {
				t.Errorf("%s imports %s: only the stores, dbident and the test helper internal/pgtest speak to PostgreSQL", name, imp)
			}
		}
	}
}

// storeShared are the packages both stores build on (the call-log writer,
// the audit log's query): they import only the domain (gate) of vipgate
// and no driver, so that neither store reaches the other's database.
var storeShared = []string{"storage/calllog", "storage/auditsql"}

func TestStoreSharedImportsOnlyTheDomain(t *testing.T) {
	pkgs := listPackages(t)
	for _, name := range storeShared {
		importsOnlyTheDomain(t, pkgs, name, "what the stores share")
	}
	for _, store := range []string{"storage/sqlite", "storage/postgres"} {
		for _, name := range storeShared {
			if !slices.Contains(pkgs[store].Imports, module+name) {
				t.Errorf("%s does not import %s: the stores share it", store, name)
			}
		}
	}
}
