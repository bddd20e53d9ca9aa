package bearerauthextension

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensionauth"
	"go.uber.org/zap"

	"github.com/tracehound/tracehound/internal/apikeys"
	"github.com/tracehound/tracehound/internal/llmschema"
)

// Auth data attributes besides llmschema.ProjectAuthAttribute.
const (
	attrKeyName = "key.name"
	attrRole    = "role"
)

const (
	// failureLogInterval bounds the warn logs about rejected requests: a client with a
	// wrong key retries constantly, and one line per attempt would drown the log.
	failureLogInterval = 10 * time.Second
	// shortKeyLen is the length under which an inline key earns a warning.
	shortKeyLen = 16
	// generatedKeyName names the key that a first start creates.
	generatedKeyName = "default"
)

var (
	_ extension.Extension  = (*authenticator)(nil)
	_ extensionauth.Server = (*authenticator)(nil)
)

type authenticator struct {
	cfg    *Config
	logger *zap.Logger
	// stderr receives the one-time banner with a generated key. It is not the logger
	// on purpose: logs may be shipped elsewhere, and the key must not travel with them.
	stderr   io.Writer
	failures *failureLog

	// keys is the current key set: inline keys plus the keys file's last good content.
	keys   atomic.Pointer[keySet]
	inline []apikeys.Key

	// Reload state, owned by Start and then by the watch goroutine alone: the hash of
	// the content last tried, of the content seen on the last poll, and the last read
	// error (so that each problem is logged once).
	fileSum    sha256Sum
	pendingSum sha256Sum
	readErr    string

	stop chan struct{}
	done chan struct{}
}

type sha256Sum = [sha256.Size]byte

func newAuthenticator(cfg *Config, logger *zap.Logger, stderr io.Writer) *authenticator {
	a := &authenticator{
		cfg:      cfg,
		logger:   logger,
		stderr:   stderr,
		failures: newFailureLog(logger, failureLogInterval),
	}
	a.keys.Store(&keySet{})
	return a
}

// Start loads the keys, generates the first one if there are none and
// generate_key_if_empty is set, and starts watching keys_file.
func (a *authenticator) Start(_ context.Context, _ component.Host) error {
	inline, err := apikeys.Resolve(a.cfg.entries())
	if err != nil {
		return fmt.Errorf("bearerauth: %w", err)
	}
	a.inline = inline
	for i, k := range a.cfg.Keys {
		if k.Key != "" && len(k.Key) < shortKeyLen {
			a.logger.Warn("inline API key is short and may be guessable; generate one with `tracehound keys create`",
				zap.String("field", fmt.Sprintf("keys[%d]", i)), zap.String("project", k.Project))
		}
	}

	var fileKeys []apikeys.Key
	if a.cfg.KeysFile != "" {
		if fileKeys, err = a.loadFileAtStart(); err != nil {
			return err
		}
		if len(inline) == 0 && len(fileKeys) == 0 && a.cfg.GenerateKeyIfEmpty {
			if fileKeys, err = a.generateFirstKey(); err != nil {
				return err
			}
		}
	}
	set, err := newKeySet(inline, fileKeys)
	if err != nil {
		return fmt.Errorf("bearerauth: keys_file %s: %w", a.cfg.KeysFile, err)
	}
	a.keys.Store(set)
	if len(set.keys) == 0 {
		a.logger.Warn("no API keys configured: every request will be refused until a key is added",
			zap.String("keys_file", a.cfg.KeysFile))
	} else {
		a.logger.Info("API keys loaded", zap.Int("keys", len(set.keys)), zap.String("keys_file", a.cfg.KeysFile))
	}

	if a.cfg.KeysFile != "" {
		a.stop = make(chan struct{})
		a.done = make(chan struct{})
		go a.watch(a.stop, a.done)
	}
	return nil
}

// Shutdown stops the file watch. It is safe without a Start and when called twice.
func (a *authenticator) Shutdown(context.Context) error {
	if a.stop != nil {
		close(a.stop)
		<-a.done
		a.stop = nil
	}
	a.failures.flush()
	return nil
}

// Authenticate accepts a request whose API key is known and returns a context whose
// client.Info carries the key's project, name and role as auth data; everything else
// in the incoming client.Info (address, metadata) is kept.
func (a *authenticator) Authenticate(ctx context.Context, headers map[string][]string) (context.Context, error) {
	if err := ctx.Err(); err != nil {
		return ctx, err
	}
	key, err := keyFromHeaders(headers)
	if err != nil {
		a.failures.record(ctx, err)
		return ctx, err
	}
	data := a.keys.Load().lookup(apikeys.HashKey(key))
	if data == nil {
		a.failures.record(ctx, errInvalidKey)
		return ctx, errInvalidKey
	}
	info := client.FromContext(ctx)
	info.Auth = data
	return client.NewContext(ctx, info), nil
}

// loadFileAtStart reads keys_file; a missing or empty file is no keys, but a file that
// cannot be read or parsed stops the start: there is no earlier good set to fall back
// to, and generating a key over a broken file would destroy it.
func (a *authenticator) loadFileAtStart() ([]apikeys.Key, error) {
	data, err := os.ReadFile(a.cfg.KeysFile)
	if errors.Is(err, os.ErrNotExist) {
		a.readErr = readErrMissing
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("bearerauth: keys_file %s: %w", a.cfg.KeysFile, err)
	}
	a.fileSum = sha256.Sum256(data)
	keys, err := parseKeys(data)
	if err != nil {
		return nil, fmt.Errorf("bearerauth: keys_file %s: %w (fix the file, or move it away to start with a new key)", a.cfg.KeysFile, err)
	}
	return keys, nil
}

func parseKeys(data []byte) ([]apikeys.Key, error) {
	entries, err := apikeys.Parse(data)
	if err != nil {
		return nil, err
	}
	return apikeys.Resolve(entries)
}

// generateFirstKey creates a key for the default project, stores only its hash in
// keys_file and shows the key once on stderr.
func (a *authenticator) generateFirstKey() ([]apikeys.Key, error) {
	path := a.cfg.KeysFile
	key, entry, err := apikeys.Create(path, apikeys.Entry{
		Name:    generatedKeyName,
		Project: llmschema.DefaultProject,
		Role:    apikeys.RoleAdmin,
	}, time.Now())
	if err != nil {
		return nil, fmt.Errorf("bearerauth: generate the first API key into keys_file %s: %w", path, err)
	}
	fmt.Fprint(a.stderr, banner(key, entry, path))
	a.logger.Info("no API keys were configured: generated one and printed it once to stderr; only its hash is stored",
		zap.String("keys_file", path), zap.String("project", entry.Project),
		zap.String("key.name", entry.Name), zap.String("key_sha256_prefix", entry.KeySHA256[:12]))
	return a.loadFileAtStart()
}

func banner(key string, e apikeys.Entry, path string) string {
	rule := strings.Repeat("=", 78) + "\n"
	var b strings.Builder
	b.WriteString("\n" + rule)
	fmt.Fprintf(&b, "tracehound: generated an API key for project %q (role %s).\n", e.Project, e.Role)
	fmt.Fprintf(&b, "It is shown only this once; %s stores only its SHA-256 hash.\n\n", path)
	fmt.Fprintf(&b, "    %s\n\n", key)
	b.WriteString("Send it with your telemetry, e.g.:\n")
	b.WriteString(apikeys.EnvHint(key, "    "))
	b.WriteString("(\"Bearer <key>\" and \"Bearer%20<key>\" are both accepted.)\n")
	b.WriteString("More keys: tracehound keys create --project <name>\n")
	b.WriteString(rule + "\n")
	return b.String()
}

// watch re-reads keys_file every reload_interval. Polling rather than fsnotify: it
// sees every way a file gets replaced (atomic rename, editors' write-and-move,
// Kubernetes ConfigMap symlink swaps, bind mounts and network filesystems that send no
// events) and a file that appears after start, at the cost of reading a few hundred
// bytes every interval. Content is compared by hash, so mtime granularity does not
// matter.
func (a *authenticator) watch(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(a.cfg.ReloadInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			a.reload()
		}
	}
}

// readErrMissing stands for every "file does not exist" error in readErr, so that a
// keys_file that was missing at start is not reported on each poll.
const readErrMissing = "missing"

// reload swaps in the keys file's new content. A file that is missing, unreadable or
// invalid keeps the last good set (a file being replaced or a half-edited file must not
// lock everyone out), and each distinct problem is logged once. To revoke every key in
// the file, write an empty list rather than deleting it.
func (a *authenticator) reload() {
	path := a.cfg.KeysFile
	data, err := os.ReadFile(path)
	if err != nil {
		msg := err.Error()
		if errors.Is(err, os.ErrNotExist) {
			msg = readErrMissing
		}
		if msg != a.readErr {
			a.readErr = msg
			a.logger.Error("cannot read keys_file; keeping the last good API keys",
				zap.String("keys_file", path), zap.Error(err), zap.Int("keys", len(a.keys.Load().keys)))
		}
		return
	}
	a.readErr = ""
	sum := sha256.Sum256(data)
	if sum == a.fileSum {
		return
	}
	if sum != a.pendingSum {
		// Apply new content only once it has held still for one interval: a writer
		// that truncates and rewrites in place (an editor, "echo >") must not be
		// caught half-way, which could drop keys that are still meant to be valid.
		a.pendingSum = sum
		return
	}
	a.fileSum = sum
	fileKeys, err := parseKeys(data)
	var set *keySet
	if err == nil {
		set, err = newKeySet(a.inline, fileKeys)
	}
	if err != nil {
		a.logger.Error("keys_file changed but is invalid; keeping the last good API keys",
			zap.String("keys_file", path), zap.Error(err), zap.Int("keys", len(a.keys.Load().keys)))
		return
	}
	a.keys.Store(set)
	a.logger.Info("API keys reloaded", zap.String("keys_file", path), zap.Int("keys", len(set.keys)))
}

// keySet is an immutable set of keys, replaced whole on reload.
type keySet struct {
	keys []keyEntry
}

type keyEntry struct {
	digest apikeys.Digest
	auth   *authData
}

// newKeySet joins inline and file keys. A key in both is an error: the two entries
// could name different projects.
func newKeySet(inline, file []apikeys.Key) (*keySet, error) {
	s := &keySet{keys: make([]keyEntry, 0, len(inline)+len(file))}
	where := make(map[apikeys.Digest]int, len(inline))
	for i, k := range inline {
		where[k.Digest] = i
		s.keys = append(s.keys, newKeyEntry(k))
	}
	for i, k := range file {
		if j, dup := where[k.Digest]; dup {
			return nil, fmt.Errorf("keys[%d]: same key as the inline keys[%d]", i, j)
		}
		s.keys = append(s.keys, newKeyEntry(k))
	}
	return s, nil
}

func newKeyEntry(k apikeys.Key) keyEntry {
	return keyEntry{digest: k.Digest, auth: &authData{project: k.Project, name: k.Name, role: k.Role}}
}

// lookup finds the key with digest d. It compares d with every key in constant time
// and never stops early, so the time taken depends on neither whether nor which key
// matched. A map keyed by digest would also be safe for generated keys (a digest says
// nothing usable about a 256-bit random key), but inline keys may be chosen by people,
// and timing that leaked digest prefixes would help an offline guess of a weak key.
// Key sets are small, so the linear scan costs nanoseconds per key.
func (s *keySet) lookup(d apikeys.Digest) *authData {
	var found *authData
	for i := range s.keys {
		if subtle.ConstantTimeCompare(s.keys[i].digest[:], d[:]) == 1 {
			found = s.keys[i].auth
		}
	}
	return found
}

// authData is the client.AuthData of an authenticated request. One value per key is
// shared by all its requests; it is never modified.
type authData struct {
	project, name, role string
}

var _ client.AuthData = (*authData)(nil)

func (d *authData) GetAttribute(name string) any {
	switch name {
	case llmschema.ProjectAuthAttribute:
		return d.project
	case attrKeyName:
		return d.name
	case attrRole:
		return d.role
	}
	return nil
}

func (*authData) GetAttributeNames() []string {
	return []string{llmschema.ProjectAuthAttribute, attrKeyName, attrRole}
}

// failureLog writes at most one warn line per interval about rejected requests, with
// the number of rejections it kept quiet about since the previous line.
type failureLog struct {
	logger   *zap.Logger
	interval time.Duration
	now      func() time.Time

	mu         sync.Mutex
	next       time.Time
	suppressed int
}

func newFailureLog(logger *zap.Logger, interval time.Duration) *failureLog {
	return &failureLog{logger: logger, interval: interval, now: time.Now}
}

func (f *failureLog) record(ctx context.Context, reason error) {
	f.mu.Lock()
	now := f.now()
	if now.Before(f.next) {
		f.suppressed++
		f.mu.Unlock()
		return
	}
	suppressed := f.suppressed
	f.suppressed = 0
	f.next = now.Add(f.interval)
	f.mu.Unlock()

	fields := []zap.Field{zap.String("reason", reason.Error()), zap.Int("suppressed", suppressed)}
	if addr := client.FromContext(ctx).Addr; addr != nil {
		fields = append(fields, zap.String("client.address", addr.String()))
	}
	f.logger.Warn("rejected a request that failed API key authentication", fields...)
}

// flush reports the rejections still being kept quiet, at shutdown.
func (f *failureLog) flush() {
	f.mu.Lock()
	suppressed := f.suppressed
	f.suppressed = 0
	f.mu.Unlock()
	if suppressed > 0 {
		f.logger.Warn("rejected requests that failed API key authentication", zap.Int("suppressed", suppressed))
	}
}
