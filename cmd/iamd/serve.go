package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	"iamd"
	"iamd/account"
	"iamd/directory"
	"iamd/face/console"
	"iamd/face/ece"
	"iamd/face/native"
	"iamd/face/ncloud"
	"iamd/face/scim"
	"iamd/face/scp"
	"iamd/face/vikingcloud"
	"iamd/postgres"
	"iamd/server"
	"iamd/sqlstore"
)

// faceAddrs collects --face-addr NAME=HOST:PORT; its environment twin takes a
// comma-separated list.
type faceAddrs map[string]string

func (f faceAddrs) String() string {
	var parts []string
	for k, v := range f {
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func (f faceAddrs) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		name, addr, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || name == "" || addr == "" {
			return fmt.Errorf("%q is not NAME=HOST:PORT", part)
		}
		f[name] = addr
	}
	return nil
}

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		st              storeFlags
		addr            = fs.String("addr", "127.0.0.1:8080", "main listener: every face under its prefix, /healthz, /readyz, /metrics")
		faces           = faceAddrs{}
		logFormat       = fs.String("log-format", "text", "log format: text or json")
		logLevel        = fs.String("log-level", "info", "log level: debug, info, warn or error")
		bodyLimit       = fs.Int64("body-limit", server.DefaultBodyLimit, "largest request body in bytes")
		versionPolicy   = fs.String("api-version-policy", scp.PolicyEnforce, "SCP API versions whose Not Before date has arrived: enforce (refuse with 400 UnsupportedApiVersion, as SCP does) or warn (serve them with Deprecation and Sunset headers)")
		skew            = fs.Duration("signature-skew", account.DefaultSkew, "how far a signed request's timestamp may be from the server's clock")
		shutdownTimeout = fs.Duration("shutdown-timeout", 30*time.Second, "how long in-flight requests may take to finish on SIGTERM")
		requestTimeout  = fs.Duration("request-timeout", server.DefaultRequestTimeout, "a request's deadline: past it, a request waiting on the database gets a 503")
		defaultInstance = fs.String("default-instance", "default", "the instance created on first start")
		argonMemory     = fs.Uint("argon2-memory", uint(account.DefaultParams.Memory), "argon2id memory for new password hashes, KiB (OWASP: 19456)")
		argonTime       = fs.Uint("argon2-time", uint(account.DefaultParams.Time), "argon2id passes for new password hashes")
		argonThreads    = fs.Uint("argon2-threads", uint(account.DefaultParams.Threads), "argon2id lanes for new password hashes")
		benchBaseline   = fs.Bool("bench-baseline", false, "serve GET /scp/v1/bench-noop (signed, does nothing) for iamd bench's baseline")
		memoryLimit     = fs.String("memory-limit", "auto", "soft limit on the Go heap in MiB, as GOMEMLIMIT sets it: auto (48 MiB plus twice the password hasher's working memory; GOMEMLIMIT wins if set), none, or a number")
		debugAddr       = fs.String("debug-addr", "", "serve Go's runtime profiles (/debug/pprof/) on this address; keep it on loopback")
		sessionTTL      = fs.Duration("session-ttl", account.DefaultSessionTTL, "how long a session token from a sign-in lasts before it must be refreshed")
		readURL         = fs.String("database-read-url", "", "postgres://… of a standby (or a pool of them) for listings and searches, which may lag the primary by the standby's replay delay; never for sign-in, authorization, uniqueness or look-ups")
		eventRetention  = fs.Duration("event-retention", 0, "delete audit events older than this, checked hourly (0: keep everything; at least 1h)")
	)
	st.register(fs)
	fs.Var(faces, "face-addr", "NAME=HOST:PORT: also serve face NAME at the root of its own listener (repeatable)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve takes no arguments, got %q", fs.Args())
	}
	logger, err := newLogger(stderr, *logFormat, *logLevel)
	if err != nil {
		return err
	}
	if *argonMemory > 1<<32-1 || *argonTime > 1<<32-1 || *argonThreads > 255 {
		return fmt.Errorf("--argon2-memory, --argon2-time or --argon2-threads out of range")
	}
	hasher, err := account.NewHasher(account.Params{Memory: uint32(*argonMemory), Time: uint32(*argonTime), Threads: uint8(*argonThreads)})
	if err != nil {
		return fmt.Errorf("--argon2-*: %w", err)
	}
	limit, err := heapLimit(*memoryLimit, os.Getenv("GOMEMLIMIT"), hasher)
	if err != nil {
		return err
	}
	if limit > 0 {
		debug.SetMemoryLimit(limit)
	}
	if *eventRetention != 0 && *eventRetention < time.Hour {
		return fmt.Errorf("--event-retention must be 0 (keep everything) or at least 1h, got %s", *eventRetention)
	}
	if *sessionTTL < time.Minute {
		return fmt.Errorf("--session-ttl must be at least a minute, got %s", *sessionTTL)
	}
	if *versionPolicy != scp.PolicyEnforce && *versionPolicy != scp.PolicyWarn {
		return fmt.Errorf("--api-version-policy must be enforce or warn, got %q", *versionPolicy)
	}

	if *readURL != "" && !st.usesPostgres() {
		return fmt.Errorf("--database-read-url needs --database-url postgres://… (SQLite has no standbys)")
	}
	store, err := st.open(ctx)
	if err != nil {
		return err
	}
	if *readURL != "" {
		if err := postgres.ReadStandby(store.(*sqlstore.DB), *readURL); err != nil {
			store.Close()
			return fmt.Errorf("--database-read-url: %w", err)
		}
	}
	defer store.Close()
	masterKeyEnv := os.Getenv("IAMD_MASTER_KEY")
	key, err := account.LoadMasterKey(st.dataDir, masterKeyEnv)
	if err != nil {
		return err
	}
	if st.usesPostgres() && masterKeyEnv == "" {
		logger.Warn("the master key comes from a file in --data-dir: replicas sharing this database must share IAMD_MASTER_KEY")
	}
	accounts := account.New(store, key, account.WithHasher(hasher), account.WithSessionTTL(*sessionTTL), account.WithLogger(logger))
	boot, err := accounts.Bootstrap(ctx, account.BootstrapConfig{
		DefaultInstance: *defaultInstance,
		AdminPassword:   os.Getenv("IAMD_ADMIN_PASSWORD"),
		AdminAccessKey:  os.Getenv("IAMD_ADMIN_ACCESS_KEY"),
		AdminSecretKey:  os.Getenv("IAMD_ADMIN_SECRET_KEY"),
		AdminAPIToken:   os.Getenv("IAMD_ADMIN_API_TOKEN"),
	})
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	printGenerated(stderr, boot)

	dir := directory.New(store, directory.WithCredentials(accounts))
	if err := dir.EnsureBuiltinRoles(ctx); err != nil {
		return fmt.Errorf("built-in roles: %w", err)
	}
	scpFace, err := scp.New(scp.Config{Users: dir, Groups: dir, Auth: accounts, Skew: *skew,
		VersionPolicy: *versionPolicy, Logger: logger.With("face", "scp"), Baseline: *benchBaseline})
	if err != nil {
		return err
	}
	nativeFace, err := native.New(native.Config{Accounts: accounts, Directory: dir, Logger: logger.With("face", "native")})
	if err != nil {
		return err
	}
	consoleFace, err := console.New(console.Config{Accounts: accounts, Directory: dir, Instance: boot.InstanceID,
		Logger: logger.With("face", "console")})
	if err != nil {
		return err
	}
	eceFace, err := ece.New(ece.Config{Directory: dir, Accounts: accounts, Instance: boot.InstanceID, Logger: logger.With("face", "ece")})
	if err != nil {
		return err
	}
	if err := eceFace.EnsureBuiltinUsers(ctx); err != nil {
		return fmt.Errorf("ECE built-in users: %w", err)
	}
	scimFace, err := scim.New(scim.Config{Directory: dir, Accounts: accounts, Instance: boot.InstanceID, Logger: logger.With("face", "scim"),
		BulkMaxPayload: min(*bodyLimit, scim.DefaultBulkMaxPayload)})
	if err != nil {
		return err
	}
	ncloudFace, err := ncloud.New(ncloud.Config{Directory: dir, Accounts: accounts, Logger: logger.With("face", "ncloud")})
	if err != nil {
		return err
	}
	vikingFace, err := vikingcloud.New(vikingcloud.Config{Directory: dir, Accounts: accounts, Instance: boot.InstanceID,
		Logger: logger.With("face", "vikingcloud")})
	if err != nil {
		return err
	}
	srv, err := server.New(server.Config{
		Addr: *addr,
		Mounts: []server.Mount{{Prefix: "/scp", Face: scpFace}, {Prefix: "/iamd", Face: nativeFace},
			{Prefix: "/ece", Face: eceFace}, {Prefix: "/scim/v2", Face: scimFace}, {Prefix: "/ncloud", Face: ncloudFace},
			{Prefix: "/vikingcloud", Face: vikingFace}, {Prefix: "/console", Face: consoleFace}},
		FaceAddrs:       faces,
		Ready:           store.Ping,
		Logger:          logger,
		BodyLimit:       *bodyLimit,
		ShutdownTimeout: *shutdownTimeout,
		RequestTimeout:  *requestTimeout,
		DebugAddr:       *debugAddr,
		RequestContext:  server.ReadScope(store),
	})
	if err != nil {
		return err
	}
	if *eventRetention > 0 {
		pruner, ok := store.(iamd.EventPruner)
		if !ok {
			return fmt.Errorf("--event-retention: this store cannot delete events")
		}
		go pruneEvents(ctx, pruner, *eventRetention, time.Hour, logger)
	}
	if err := srv.Listen(); err != nil {
		return err
	}
	logger.Info("iamd ready", "instance", boot.InstanceID, "store", storeKind(st))
	return srv.Serve(ctx)
}

// heapLimit resolves --memory-limit to bytes, 0 for no change. Every argon2id hash
// allocates its whole memory cost (19 MiB by default) and drops it, so under sign-ins the
// collector's default pacing let the heap reach twice the hashes in flight plus twice
// everything else, and the process kept it: 141-166 MB peak RSS under the mixed workload
// after sign-ins in iamd bench. The automatic limit allows the hashes their doubling and
// the rest of the server 48 MiB. A tighter one (64 MiB plus one working memory) kept RSS
// at 122 MB but cost 10 points of sign-in rate: the scavenger returned the hashes' memory
// to the OS and every hash faulted it back in.
func heapLimit(flag, env string, hasher *account.Hasher) (int64, error) {
	switch flag {
	case "auto":
		if env != "" {
			return 0, nil // the runtime has applied GOMEMLIMIT already
		}
		return 48<<20 + 2*hasher.WorkingMemory(), nil
	case "none":
		return math.MaxInt64, nil
	}
	mib, err := strconv.ParseInt(flag, 10, 64)
	if err != nil || mib <= 0 || mib > 1<<40 {
		return 0, fmt.Errorf("--memory-limit must be auto, none or a number of MiB, got %q", flag)
	}
	return mib << 20, nil
}

func storeKind(st storeFlags) string {
	if st.usesPostgres() {
		return "postgres"
	}
	return "sqlite"
}

// printGenerated shows, once, the bootstrap credentials iamd made up. They go to stderr
// as plain text, never through the structured log.
func printGenerated(w io.Writer, boot *account.BootstrapResult) {
	if len(boot.Generated) == 0 {
		return
	}
	names := make([]string, 0, len(boot.Generated))
	for k := range boot.Generated {
		names = append(names, k)
	}
	sort.Strings(names)
	fmt.Fprintf(w, "\nFirst start: iamd generated these credentials for user admin of instance %s.\n", boot.InstanceID)
	fmt.Fprintln(w, "They are shown only now; set them in the environment to choose your own.")
	for _, k := range names {
		fmt.Fprintf(w, "  %s=%s\n", k, boot.Generated[k])
	}
	fmt.Fprintln(w)
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, got %q", format)
}

// pruneEvents deletes the events older than retention now and every interval until ctx
// ends. Replicas on one PostgreSQL each do it; the deletes are idempotent.
func pruneEvents(ctx context.Context, pruner iamd.EventPruner, retention, interval time.Duration, logger *slog.Logger) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		n, err := pruner.DeleteEventsBefore(ctx, time.Now().Add(-retention))
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Error("event retention", "err", err)
		case n > 0:
			logger.Info("event retention: deleted old events", "deleted", n, "retention", retention.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
