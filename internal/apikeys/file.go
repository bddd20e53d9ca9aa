package apikeys

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tracehound/tracehound/internal/durable"
)

// fileDoc is the keys file's top level. A bare list of entries is accepted too.
type fileDoc struct {
	Keys []Entry `yaml:"keys" json:"keys"`
}

const fileHeader = `# tracehound API keys. Manage with "tracehound keys create|list|revoke".
# Only SHA-256 hashes of keys are stored here; a running tracehound reloads this file on change.
`

// minHashPrefix keeps "revoke --hash" from matching by accident.
const minHashPrefix = 4

// Parse reads a keys file's content: JSON when it starts with '{' or '[', YAML
// otherwise; either a {"keys": [...]} document or a bare list of entries. Empty content
// (or only comments) is an empty key list. Unknown fields are errors, so that a typo
// such as "projet" does not silently drop a key's project.
func Parse(data []byte) ([]Entry, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, nil
	}
	if trimmed[0] == '{' || trimmed[0] == '[' {
		return parseJSON(trimmed)
	}
	return parseYAML(data)
}

func parseJSON(data []byte) ([]Entry, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var entries []Entry
	var err error
	if data[0] == '[' {
		err = dec.Decode(&entries)
	} else {
		var doc fileDoc
		err = dec.Decode(&doc)
		entries = doc.Keys
	}
	if err != nil {
		return nil, fmt.Errorf("parse JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("parse JSON: unexpected data after the top-level value")
	}
	return entries, nil
}

func parseYAML(data []byte) ([]Entry, error) {
	var node yaml.Node
	if err := yaml.Unmarshal(data, &node); err != nil {
		return nil, fmt.Errorf("parse YAML: %w", err)
	}
	if len(node.Content) == 0 {
		return nil, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var entries []Entry
	var err error
	switch node.Content[0].Kind {
	case yaml.SequenceNode:
		err = dec.Decode(&entries)
	case yaml.MappingNode:
		var doc fileDoc
		err = dec.Decode(&doc)
		entries = doc.Keys
	default:
		return nil, errors.New("parse YAML: expected a mapping with \"keys:\" or a list of keys")
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("parse YAML: %w", err)
	}
	return entries, nil
}

// ReadFile reads and parses a keys file. A missing file is reported with an error
// that matches fs.ErrNotExist, so that callers can treat it as "no keys yet".
func ReadFile(path string) ([]Entry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	entries, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("keys file %s: %w", path, err)
	}
	return entries, nil
}

// Marshal renders entries in the format WriteFile uses for path: JSON when path ends
// in .json, YAML otherwise.
func Marshal(path string, entries []Entry) ([]byte, error) {
	if entries == nil {
		entries = []Entry{}
	}
	doc := fileDoc{Keys: entries}
	if strings.EqualFold(filepath.Ext(path), ".json") {
		b, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return nil, err
		}
		return append(b, '\n'), nil
	}
	var buf bytes.Buffer
	buf.WriteString(fileHeader)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteFile replaces the keys file atomically: it writes a temporary file in the same
// directory (mode 0600), syncs it and renames it over path, so that a reader (the
// running extension's reload) sees either the old or the new file, never half of one.
// The directory is created (mode 0700) when missing.
func WriteFile(path string, entries []Entry) error {
	data, err := Marshal(path, entries)
	if err != nil {
		return fmt.Errorf("keys file %s: encode: %w", path, err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("keys file %s: create directory: %w", path, err)
	}
	// CreateTemp makes the file with mode 0600, which the rename keeps.
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("keys file %s: create temporary file: %w", path, err)
	}
	tmpName := tmp.Name()
	committed := false
	defer func() {
		if !committed {
			_ = tmp.Close()
			_ = os.Remove(tmpName)
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("keys file %s: write: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("keys file %s: sync: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("keys file %s: close: %w", path, err)
	}
	if err := os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("keys file %s: replace: %w", path, err)
	}
	committed = true
	syncDir(dir)
	return nil
}

// syncDir makes the rename durable. Best effort: the rename itself has already happened.
func syncDir(dir string) { _ = durable.SyncDir(dir) }

// readForUpdate reads the file that a mutation will rewrite. A missing file is an empty
// list; a file that does not parse is an error, so that it is never overwritten.
func readForUpdate(path string) ([]Entry, error) {
	entries, err := ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w (fix it before changing keys)", err)
	}
	return entries, nil
}

// Create generates a key for tmpl.Project (with tmpl.Name and tmpl.Role), appends its
// hash to the keys file at path and returns the plain key, which exists nowhere else:
// show it to the user once. An empty name becomes "key-<first 8 hash digits>"; names
// must be unique within the file so that "revoke --name" is unambiguous.
func Create(path string, tmpl Entry, now time.Time) (string, Entry, error) {
	entries, err := readForUpdate(path)
	if err != nil {
		return "", Entry{}, err
	}
	key, err := GenerateKey()
	if err != nil {
		return "", Entry{}, err
	}
	digest := HashKey(key)
	e := Entry{
		Name:      tmpl.Name,
		Project:   tmpl.Project,
		Role:      tmpl.Role,
		KeySHA256: digest.String(),
		Created:   now.UTC().Truncate(time.Second),
	}
	if e.Name == "" {
		e.Name = "key-" + e.KeySHA256[:8]
	}
	if err := e.Validate(); err != nil {
		return "", Entry{}, err
	}
	for _, old := range entries {
		if old.Name == e.Name {
			return "", Entry{}, fmt.Errorf("keys file %s already has a key named %q: pick another --name or revoke it first", path, e.Name)
		}
	}
	if err := WriteFile(path, append(entries, e)); err != nil {
		return "", Entry{}, err
	}
	return key, e, nil
}

// HashHex is the entry's key digest in hex, computed for entries that hold a plain key;
// empty when the entry is invalid.
func (e Entry) HashHex() string {
	d, err := e.Digest()
	if err != nil {
		return ""
	}
	return d.String()
}

// Revoke removes keys from the file at path, by name (every entry with that name) or
// by a prefix of at least 4 hex digits of key_sha256 that must match exactly one entry.
// Exactly one of name and hashPrefix is set. It returns the removed entries.
func Revoke(path, name, hashPrefix string) ([]Entry, error) {
	if (name == "") == (hashPrefix == "") {
		return nil, errors.New("revoke needs exactly one of a name or a hash prefix")
	}
	hashPrefix = strings.ToLower(hashPrefix)
	if hashPrefix != "" {
		if len(hashPrefix) < minHashPrefix {
			return nil, fmt.Errorf("hash prefix %q is too short: give at least %d hex digits", hashPrefix, minHashPrefix)
		}
		if strings.Trim(hashPrefix, "0123456789abcdef") != "" {
			return nil, fmt.Errorf("hash prefix %q is not hex", hashPrefix)
		}
	}
	entries, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	var kept, removed []Entry
	for _, e := range entries {
		match := (name != "" && e.Name == name) || (hashPrefix != "" && strings.HasPrefix(e.HashHex(), hashPrefix))
		if match {
			removed = append(removed, e)
		} else {
			kept = append(kept, e)
		}
	}
	switch {
	case len(removed) == 0 && name != "":
		return nil, fmt.Errorf("keys file %s has no key named %q (see \"keys list\")", path, name)
	case len(removed) == 0:
		return nil, fmt.Errorf("keys file %s has no key whose hash starts with %q (see \"keys list\")", path, hashPrefix)
	case hashPrefix != "" && len(removed) > 1:
		return nil, fmt.Errorf("hash prefix %q matches %d keys in %s: give more digits", hashPrefix, len(removed), path)
	}
	if err := WriteFile(path, kept); err != nil {
		return nil, err
	}
	return removed, nil
}
