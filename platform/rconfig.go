package platform

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gotars/tars"
)

// DefaultMaxConfigSize bounds a config file RemoteConfig writes, unless
// RemoteConfigOptions.MaxSize says otherwise.
const DefaultMaxConfigSize = 4 << 20

// Errors a ConfigError wraps.
var (
	// ErrBadFileName: the name is not a plain file name (empty, "." or
	// "..", or holding a path separator or NUL), so it could land outside
	// basepath.
	ErrBadFileName = errors.New("not a plain file name")
	// ErrConfigTooLarge: tarsconfig sent more than MaxSize bytes.
	ErrConfigTooLarge = errors.New("config file too large")
)

// ConfigError is the error of a config file that could not be pulled or
// written. Ret is tarsconfig's return code when it answered one other than
// 0 (429: the caller loads the file too often), Err the cause otherwise.
type ConfigError struct {
	File string
	Ret  int32
	Err  error
}

// Error names the file and the cause.
func (e *ConfigError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("platform: config file %q: tarsconfig answered ret %d", e.File, e.Ret)
	}
	return fmt.Sprintf("platform: config file %q: %v", e.File, e.Err)
}

// Unwrap returns the cause.
func (e *ConfigError) Unwrap() error { return e.Err }

// RemoteConfigOptions configures a RemoteConfig.
type RemoteConfigOptions struct {
	// App and Server name the server to tarsconfig (server<app>,
	// server<server>).
	App, Server string
	// SetDivision is the server's set ("name.area.group"), to be given
	// only when the set is enabled (application<enableset> Y), as TarsGo
	// sends it.
	SetDivision string
	// BasePath is the directory files are written to (server<basepath>);
	// it must exist.
	BasePath string
	// Files are the files LoadAll pulls.
	Files []string
	// MaxSize bounds a file's size in bytes; DefaultMaxConfigSize when 0.
	MaxSize int
	// NodeName goes in the request context as "node_name", as TARS
	// servers send it on every framework call.
	NodeName string
	// OnLoad, when set, is called after a file is written, with its name
	// and path: the program rereads it there.
	OnLoad func(name, path string)
}

// RemoteConfig pulls config files from tarsconfig (ConfigF
// loadConfigByInfo, as TarsGo's tars.RConf does) and writes each to
// basepath under its name: to a temporary file in basepath first, renamed
// over the old one, so that a reader sees the old file or the new one,
// whole. The content is also returned. It is safe for concurrent use.
//
// TarsCpp (RemoteConfig.cpp) differs: outside a set it asks loadConfig,
// tries twice, keeps five backups (name.1.bak …), and falls back to the
// local file when tarsconfig fails; TarsGo and RemoteConfig keep no
// backups and report the failure.
type RemoteConfig struct {
	client *tars.Client
	opts   RemoteConfigOptions
}

// NewRemoteConfig returns a RemoteConfig calling tarsconfig through c (a
// client of ConfigObj: through the registry, or with endpoints). It starts
// nothing.
func NewRemoteConfig(c *tars.Client, opts RemoteConfigOptions) (*RemoteConfig, error) {
	if c == nil {
		return nil, errors.New("platform: NewRemoteConfig: nil client")
	}
	if opts.BasePath == "" {
		return nil, errors.New("platform: NewRemoteConfig: no BasePath")
	}
	if opts.MaxSize < 0 {
		return nil, fmt.Errorf("platform: NewRemoteConfig: MaxSize %d is negative", opts.MaxSize)
	}
	if opts.MaxSize == 0 {
		opts.MaxSize = DefaultMaxConfigSize
	}
	for _, f := range opts.Files {
		if err := checkFileName(f); err != nil {
			return nil, &ConfigError{File: f, Err: err}
		}
	}
	opts.Files = append([]string(nil), opts.Files...)
	return &RemoteConfig{client: c, opts: opts}, nil
}

func checkFileName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\\x00") || filepath.Base(name) != name {
		return ErrBadFileName
	}
	return nil
}

// Load pulls the server-level file name (tarsconfig merges the app, set,
// server and host levels) and writes it to basepath.
func (r *RemoteConfig) Load(ctx context.Context, name string) (string, error) {
	return r.load(ctx, ConfigInfo{AppName: r.opts.App, ServerName: r.opts.Server, FileName: name, SetDivision: r.opts.SetDivision})
}

// LoadApp pulls the application-level file name (server name empty, as
// TarsGo's AddAppConfig asks) and writes it to basepath.
func (r *RemoteConfig) LoadApp(ctx context.Context, name string) (string, error) {
	return r.load(ctx, ConfigInfo{AppName: r.opts.App, FileName: name, SetDivision: r.opts.SetDivision})
}

// LoadAll pulls every file of RemoteConfigOptions.Files, in order: what a
// runner calls at start. It tries them all and joins the errors.
func (r *RemoteConfig) LoadAll(ctx context.Context) error {
	var errs []error
	for _, f := range r.opts.Files {
		if _, err := r.Load(ctx, f); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// List asks tarsconfig for the names of the server's files
// (ListAllConfigByInfo, as TarsGo's GetConfigList).
func (r *RemoteConfig) List(ctx context.Context) ([]string, error) {
	rsp, err := ConfigListAllConfigByInfo.Call(r.callCtx(ctx), r.client, ConfigListArgs{ConfigInfo: GetConfigListInfo{
		AppName: r.opts.App, ServerName: r.opts.Server, SetDivision: r.opts.SetDivision}})
	if err != nil {
		return nil, fmt.Errorf("platform: list config files: %w", err)
	}
	if rsp.Ret != 0 {
		return nil, fmt.Errorf("platform: list config files: tarsconfig answered ret %d", rsp.Ret)
	}
	return rsp.Files, nil
}

func (r *RemoteConfig) callCtx(ctx context.Context) context.Context {
	if r.opts.NodeName == "" {
		return ctx
	}
	return tars.WithOutgoingContext(ctx, map[string]string{"node_name": r.opts.NodeName})
}

func (r *RemoteConfig) load(ctx context.Context, info ConfigInfo) (string, error) {
	name := info.FileName
	if err := checkFileName(name); err != nil {
		return "", &ConfigError{File: name, Err: err}
	}
	rsp, err := ConfigLoadConfigByInfo.Call(r.callCtx(ctx), r.client, ConfigInfoArgs{ConfigInfo: info})
	if err != nil {
		return "", &ConfigError{File: name, Err: err}
	}
	if rsp.Ret != 0 {
		return "", &ConfigError{File: name, Ret: rsp.Ret}
	}
	if len(rsp.Content) > r.opts.MaxSize {
		return "", &ConfigError{File: name, Err: fmt.Errorf("%w: %d bytes, the bound is %d", ErrConfigTooLarge, len(rsp.Content), r.opts.MaxSize)}
	}
	path := filepath.Join(r.opts.BasePath, name)
	if err := writeAtomic(r.opts.BasePath, name, []byte(rsp.Content)); err != nil {
		return "", &ConfigError{File: name, Err: err}
	}
	if r.opts.OnLoad != nil {
		r.opts.OnLoad(name, path)
	}
	return rsp.Content, nil
}

// writeAtomic writes data to dir/name through a temporary file in dir,
// synced, then renamed over name; mode 0644, as TarsGo writes.
func writeAtomic(dir, name string, data []byte) (err error) {
	f, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, name))
}
