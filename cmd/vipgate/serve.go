package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vipgate/vipgate/admin"
	"github.com/vipgate/vipgate/admin/console"
	"github.com/vipgate/vipgate/agi"
	"github.com/vipgate/vipgate/ari"
	"github.com/vipgate/vipgate/calendar"
	"github.com/vipgate/vipgate/devstate"
	"github.com/vipgate/vipgate/events"
	"github.com/vipgate/vipgate/gate"
	"github.com/vipgate/vipgate/sounds"
	"github.com/vipgate/vipgate/webhook"
)

// ariServer is one Asterisk server in the config file's ari_servers list.
type ariServer struct {
	Name         string
	URL          string
	User         string
	PasswordFile string
	PasswordEnv  string
	App          string
}

func cmdServe(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "serve", "[flags]")
	c := f.common()
	httpAddr := f.str("http", "VIPGATE_HTTP_ADDR", "127.0.0.1:8080", "admin API listener (health, API, metrics); 'off' disables it")
	metricsAddr := f.str("metrics", "VIPGATE_METRICS_ADDR", "", "optional separate listener for /metrics only")
	agiAddr := f.str("agi", "VIPGATE_AGI_ADDR", "127.0.0.1:4573", "FastAGI listener; ':4573' for every interface (FastAGI has no authentication: firewall it), 'off' disables it")
	ariURL := f.str("ari-url", "VIPGATE_ARI_URL", "", "ARI base URL, e.g. http://127.0.0.1:8088/ari (default off)")
	ariUser := f.str("ari-user", "VIPGATE_ARI_USER", "vipgate", "ARI user")
	ariPassFile := f.str("ari-password-file", "VIPGATE_ARI_PASSWORD_FILE", "", "file holding the ARI password (or set VIPGATE_ARI_PASSWORD); never a flag value")
	ariApp := f.str("ari-app", "VIPGATE_ARI_APP", ari.DefaultApp, "Stasis application name")
	agiPerPeer := f.str("agi-max-sessions-per-peer", "VIPGATE_AGI_MAX_SESSIONS_PER_PEER", "0", "most FastAGI sessions one remote IP may hold; 0 = no bound besides the 1000 sessions in all (Asterisk opens every call of a PBX from one address: set it only when several PBXs reach the listener)")
	drain := f.str("drain", "VIPGATE_DRAIN", gate.DefaultDrainTimeout.String(), "on SIGTERM, how long calls in progress may take to finish, over ARI and FastAGI alike; 0 does not wait")
	storeTimeout := f.str("store-timeout", "VIPGATE_STORE_TIMEOUT", "2s", "how long all store steps of one call may take together (then the call goes on with the gates and lockout counters in memory)")
	soundsDir := f.str("sounds-dir", "VIPGATE_SOUNDS_DIR", "", "Asterisk's sounds directory as vipgate sees it (read-only is enough): a gate's uploaded prompts are played once 'vipgate sounds install' has written them there")
	serveSounds := f.boolean("serve-sounds", "VIPGATE_SERVE_SOUNDS", "serve prompts over HTTP under /sounds/ on the admin listener")
	deviceStates := f.str("device-states", "VIPGATE_DEVICE_STATES", "on", "show each gate's override as the state of its device (Custom:vipgate-<gate>, for BLF hints) over ARI: on or off")
	requireGates := f.boolean("require-gates", "VIPGATE_REQUIRE_GATES", "refuse to serve (exit with an error) while the database holds no gates, at start and when the gates vanish while serving, instead of passing every call unscreened")
	callLogRetention := retentionFlag(f)
	auditRetention := auditRetentionFlag(f)
	notifyOpts := notifyFlags(f)
	if err := f.parse(args); err != nil {
		return err
	}
	if *deviceStates != "on" && *deviceStates != "off" {
		return usagef("--device-states: want on or off")
	}
	perPeer, err := strconv.Atoi(*agiPerPeer)
	if err != nil || perPeer < 0 {
		return usagef("--agi-max-sessions-per-peer: want a number >= 0")
	}
	drainFor, err := time.ParseDuration(*drain)
	if err != nil || drainFor < 0 {
		return usagef("--drain: want a duration such as 20s")
	}
	if drainFor == 0 {
		drainFor = gate.NoDrain
	}
	storeFor, err := time.ParseDuration(*storeTimeout)
	if err != nil || storeFor <= 0 || storeFor > time.Minute {
		return usagef("--store-timeout: want a duration from 1ms to 1m, such as 2s")
	}
	retention, err := callLogRetention()
	if err != nil {
		return err
	}
	auditKeep, err := auditRetention(retention)
	if err != nil {
		return err
	}
	servers, err := ariServers(f, e, *ariURL, *ariUser, *ariPassFile, *ariApp)
	if err != nil {
		return err
	}

	d, err := c.open(ctx, e, true)
	if err != nil {
		return err
	}
	log := d.log
	metrics := admin.NewMetrics()
	// The store is checked before the call sources start and then every
	// few seconds: a deleted or replaced database file, or a database
	// that has lost its gates, must not go unnoticed.
	watch := &storeWatch{store: d.store, log: log, state: metrics.StoreState, now: time.Now, requireGates: *requireGates,
		marker: filepath.Join(filepath.Dir(d.keyPath), gatesMarkerName), dbID: databaseID(d.db)}
	if err := watch.check(ctx); err != nil {
		d.Close()
		return err
	}
	metrics.WatchGateLockouts(d.store, time.Now)
	notifier, err := newNotifier(e, notifyOpts, d, log, metrics)
	if err != nil {
		d.Close()
		return err
	}
	var authObs webhook.Observer = metrics
	observers := gate.Observers{metrics}
	if notifier != nil {
		authObs, observers = webhookObservers{metrics, notifier}, append(observers, notifier)
	}
	auth := newAuthorizer(log, authObs)
	dbAuth := newDatabaseAuthorizer(d.hasher, log, metrics)
	defer dbAuth.Close()
	// The iCalendar calendars of gates' schedules are read and refreshed
	// in the background; the last good copy of each is kept in the store.
	calStore, _ := d.store.(gate.CalendarStore)
	calendars := calendar.NewFetcher(calendar.FetcherConfig{Store: calStore, Logger: log})
	calendarStatus := func() []admin.CalendarStatus {
		var out []admin.CalendarStatus
		for _, s := range calendars.Status() {
			out = append(out, admin.CalendarStatus{GateID: s.GateID, Calendar: s.Source, LastSuccess: s.LastSuccess, Errors: s.Errors, Problem: s.Problem})
		}
		return out
	}
	metrics.WatchCalendars(calendarStatus, time.Now)
	calCtx, stopCalendars := context.WithCancel(ctx)
	defer stopCalendars()
	go calendars.Run(calCtx, d.store.ListGates, calendarSyncEvery)
	engine := gate.NewEngine(gate.EngineConfig{Store: d.store, Hasher: d.hasher, Authorizer: auth, Database: dbAuth, Region: d.region, StoreTimeout: storeFor, Logger: log, Calendars: calendars})
	// Uploaded prompts are played once "vipgate sounds install" has put
	// them into the sounds directory that the resolver can see.
	// Every decision goes to the metrics and the live event stream.
	hub := events.NewHub(events.Config{})
	metrics.WatchEvents(hub)
	flow := gate.NewFlow(engine, gate.FlowConfig{Log: d.store, Counters: d.store, Observer: append(observers, hub), Logger: log, Prompt: sounds.NewResolver(*soundsDir).Prompt})
	handler := flow.Handler()

	// Call sources run until ctx is done (SIGTERM/SIGINT) or one of them
	// fails, then drain.
	ctx, stopSources := context.WithCancel(ctx)
	defer stopSources()
	var srcWG, httpWG sync.WaitGroup
	errc := make(chan error, 8)
	var sources []string
	var ready admin.Readiness
	var httpSrvs []*http.Server
	listen := func(addr string, h http.Handler, what string) (string, error) {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return "", fmt.Errorf("%s listener: %w", what, err)
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute}
		httpSrvs = append(httpSrvs, srv)
		log.Info("listening", "what", what, "addr", ln.Addr().String())
		httpWG.Go(func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("%s: %w", what, err)
			}
		})
		return ln.Addr().String(), nil
	}
	// abort undoes a start that failed half-way: nothing may still use the
	// store when it closes.
	abort := func(err error) error {
		for _, srv := range httpSrvs {
			_ = srv.Close()
		}
		stopSources()
		srcWG.Wait()
		httpWG.Wait()
		d.Close()
		return err
	}
	if *httpAddr != "" && *httpAddr != "off" {
		api := admin.New(admin.Deps{Store: d.store, Engine: engine, Hasher: d.hasher, Metrics: metrics, Region: d.region, Ready: ready.Check, Calendars: calendarStatus, Logger: log, Events: hub})
		web, err := console.New(console.Deps{API: api, Status: ready.States, Ready: d.store.Ping, Sessions: d.sessions, Logger: log})
		if err != nil {
			return abort(err)
		}
		mux := http.NewServeMux()
		for _, p := range []string{"/api/", "/healthz", "/readyz", "/metrics", "/openapi.json"} {
			mux.Handle(p, api)
		}
		if *serveSounds {
			mux.Handle("/sounds/", http.StripPrefix("/sounds", sounds.Handler(d.store)))
		}
		mux.Handle("/", web)
		addr, err := listen(*httpAddr, mux, "admin API")
		if err != nil {
			return abort(err)
		}
		fmt.Fprintf(e.stderr, "web console: http://%s/  (log in with an API token; create one with: vipgate tokens create --role admin)\n", consoleHost(addr))
	}
	if *metricsAddr != "" {
		if _, err := listen(*metricsAddr, metrics.Handler(), "metrics"); err != nil {
			return abort(err)
		}
	}
	var devices *devstate.Syncer
	if len(servers) > 0 {
		app, err := ari.NewApp(ari.AppConfig{Servers: servers, Handler: handler, Logger: log, DrainTimeout: drainFor,
			OnState: func(server string, up bool) {
				metrics.SourceState("ari", server, up)
				ready.Set("ari "+server, up)
				if up && devices != nil {
					devices.Resync() // Asterisk may have restarted
				}
			}})
		if err != nil {
			return abort(err)
		}
		// Registered under the names OnState reports: a server without
		// a name (--ari-url) is known by its host:port.
		for _, name := range app.ServerNames() {
			ready.Set("ari "+name, false)
		}
		if *deviceStates == "on" {
			devices = devstate.New(devstate.Config{Gates: d.store.ListGates, Set: app.SetDeviceState, Logger: log})
		}
		sources = append(sources, fmt.Sprintf("ARI (%d server(s), app %q)", len(servers), servers[0].App))
		srcWG.Go(func() {
			if err := app.Run(ctx); err != nil {
				errc <- err // "ari: ..." names itself
			}
		})
	}
	if *agiAddr != "" && *agiAddr != "off" {
		srv := agi.NewServer(agi.Config{Addr: *agiAddr, Handler: handler, Logger: log, DrainTimeout: drainFor,
			MaxSessionsPerPeer: perPeer, OnRefused: metrics.AGIRefused,
			OnState: func(_ string, up bool) {
				metrics.SourceState("agi", *agiAddr, up)
				ready.Set("agi", up)
			}})
		ready.Set("agi", false)
		sources = append(sources, "FastAGI on "+*agiAddr)
		srcWG.Go(func() {
			if err := srv.ListenAndServe(ctx); err != nil && !errors.Is(err, context.Canceled) {
				errc <- err // "agi: ..." names itself
			}
		})
	}
	if len(sources) == 0 {
		log.Warn("no call source is configured: set --ari-url (ARI) and/or --agi ADDR (FastAGI); only the admin API runs")
	} else {
		log.Info("call sources", "sources", strings.Join(sources, ", "))
	}

	// The call-log pruner and the store check run beside the call
	// sources and stop with them; the store closes only after they have
	// returned.
	var pruneWG sync.WaitGroup
	pruneWG.Go(func() {
		if err := watch.run(ctx); err != nil {
			errc <- err
		}
	})
	if devices != nil {
		// Every gate's device at start, then every change from any path.
		pruneWG.Go(func() { devices.Run(ctx) })
	}
	{
		// Gates may keep their calls for a retention of their own, so
		// the pruner runs even with the global retention off.
		p := &callPruner{store: d.store, gates: d.store, retention: retention, delay: firstPrune, interval: pruneEvery, log: log, pruned: metrics.CallsPruned}
		pruneWG.Go(func() { p.run(ctx) })
	}
	if retention == 0 {
		log.Info("global call-log pruning is off (--call-log-retention 0): the call log keeps every row of gates without a retention of their own")
	}
	// The notifier stops after the call sources, so that it hears of the
	// last calls, and before the store closes.
	notifyCtx, stopNotifier := context.WithCancel(context.WithoutCancel(ctx))
	defer stopNotifier()
	var notifyWG sync.WaitGroup
	notifyWG.Go(func() { runNotifier(notifyCtx, notifier) })
	if auditKeep > 0 {
		p := &callPruner{store: auditPrunes{d.store}, what: "audit log", retention: auditKeep, delay: firstPrune, interval: pruneEvery, log: log}
		pruneWG.Go(func() { p.run(ctx) })
	}

	log.Info("vipgate started", "version", version, "db", d.dbDesc, "region", d.region, "call_log_retention", retention)

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("stopping: no new calls; calls in progress may finish", "drain", gate.DrainTimeout(drainFor))
	case runErr = <-errc:
		log.Error("stopping after an error", "err", runErr)
	}
	// The call sources drain first (the admin API, /readyz and /metrics
	// stay up meanwhile), then the HTTP listeners stop, then the store
	// closes.
	stopSources()
	srcWG.Wait()
	pruneWG.Wait()
	stopNotifier()
	notifyWG.Wait()
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	hub.Close() // event streams end; they would hold Shutdown up
	for _, s := range httpSrvs {
		_ = s.Shutdown(shutdown)
	}
	httpWG.Wait()
	// Close flushes buffered call-log rows.
	if err := d.Close(); err != nil {
		log.Error("close store", "err", err)
	}
	log.Info("stopped")
	return runErr
}

// ariServers collects the ARI servers from the flags and the config file's
// ari_servers list. Passwords come from files or the environment only.
func ariServers(f *flags, e *env, url, user, passFile, app string) ([]ari.ServerConfig, error) {
	var out []ari.ServerConfig
	readPass := func(file, envName string) (ari.Secret, error) {
		if file != "" {
			b, err := os.ReadFile(file)
			if err != nil {
				return "", fmt.Errorf("ARI password file: %w", err)
			}
			return ari.Secret(strings.TrimSpace(string(b))), nil
		}
		if v := e.getenv(envName); v != "" {
			return ari.Secret(v), nil
		}
		return "", fmt.Errorf("no ARI password: set --ari-password-file or %s", envName)
	}
	if url != "" {
		pw, err := readPass(passFile, "VIPGATE_ARI_PASSWORD")
		if err != nil {
			return nil, err
		}
		out = append(out, ari.ServerConfig{BaseURL: url, User: user, Password: pw, App: app})
	}
	if raw, ok := f.file["ari_servers"]; ok {
		list, ok := raw.([]any)
		if !ok {
			return nil, fmt.Errorf("config: ari_servers must be a list")
		}
		for i, it := range list {
			m, ok := it.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("config: ari_servers[%d] must be a mapping", i)
			}
			s := ariServer{User: user, App: app, PasswordEnv: "VIPGATE_ARI_PASSWORD"}
			for k, v := range m {
				str := fmt.Sprint(v)
				switch k {
				case "name":
					s.Name = str
				case "url":
					s.URL = str
				case "user":
					s.User = str
				case "password_file":
					s.PasswordFile = str
				case "password_env":
					s.PasswordEnv = str
				case "app":
					s.App = str
				default:
					return nil, fmt.Errorf("config: ari_servers[%d]: unknown key %q (a password goes in password_file or password_env)", i, k)
				}
			}
			if s.URL == "" {
				return nil, fmt.Errorf("config: ari_servers[%d]: url is required", i)
			}
			pw, err := readPass(s.PasswordFile, s.PasswordEnv)
			if err != nil {
				return nil, fmt.Errorf("config: ari_servers[%d]: %w", i, err)
			}
			out = append(out, ari.ServerConfig{Name: s.Name, BaseURL: s.URL, User: s.User, Password: pw, App: s.App})
		}
	}
	return out, nil
}

// consoleHost is the host:port to put in the console's URL: a listener on
// every address is reached on 127.0.0.1 from the same host.
func consoleHost(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// calendarSyncEvery is how often serve looks for calendars that are due
// for a refresh (each has its own interval, at least a minute).
const calendarSyncEvery = 30 * time.Second
