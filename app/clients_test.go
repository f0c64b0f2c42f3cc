package app

import (
	"context"
	"testing"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/config"
)

// TestMethodTimeouts: the deadline each method's calls get, from
// client.Policy, when the caller's context has none; none when the
// method's timeout is the client's own (WithTimeout applies it).
func TestMethodTimeouts(t *testing.T) {
	const obj = "A.B.Obj"
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	tests := []struct {
		name    string
		objects map[string]config.Object
		want    map[string]time.Duration // method → deadline given (0: none)
		none    bool                     // no middleware at all
	}{
		{"nothing set", nil, nil, true},
		{"object timeout only", map[string]config.Object{obj: {Timeout: ms(500)}}, nil, true},
		{"one method", map[string]config.Object{obj: {Methods: map[string]config.Method{"get": {Timeout: ms(100)}}}},
			map[string]time.Duration{"get": ms(100), "put": 0}, false},
		{"star method of the object", map[string]config.Object{obj: {Timeout: ms(900), Methods: map[string]config.Method{
			"*": {Timeout: ms(200)}, "get": {Timeout: ms(100)}}}},
			map[string]time.Duration{"get": ms(100), "put": ms(200)}, false},
		{"every object's method", map[string]config.Object{"*": {Methods: map[string]config.Method{"get": {Timeout: ms(50)}}}},
			map[string]time.Duration{"get": ms(50), "put": 0}, false},
		{"method equal to the object's", map[string]config.Object{obj: {Timeout: ms(300), Methods: map[string]config.Method{"get": {Timeout: ms(300)}}}},
			nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Client.Objects = tt.objects
			mw := methodTimeouts(&cfg, obj)
			if (mw == nil) != tt.none {
				t.Fatalf("middleware %v, want none: %v", mw != nil, tt.none)
			}
			if mw == nil {
				return
			}
			for method, want := range tt.want {
				var got time.Duration
				inv := mw(func(ctx context.Context, _ *tars.Call) error {
					if d, ok := ctx.Deadline(); ok {
						got = time.Until(d)
					}
					return nil
				})
				inv(context.Background(), &tars.Call{Servant: obj, Method: method})
				if want == 0 && got != 0 || want != 0 && (got > want || got < want-50*time.Millisecond) {
					t.Errorf("%s: deadline in %v, want %v", method, got, want)
				}
				// A caller's own deadline is left alone.
				ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
				inv(ctx, &tars.Call{Servant: obj, Method: method})
				cancel()
				if got < 59*time.Minute {
					t.Errorf("%s: the caller's deadline became %v", method, got)
				}
			}
		})
	}
}

// TestBalancer maps the balancer names onto package lb.
func TestBalancer(t *testing.T) {
	for _, tt := range []struct{ client, obj, want string }{
		{"round_robin", "", "tars"},
		{"random", "", "random"},
		{"round_robin", "mod_hash", "mod_hash"},
		{"mod_hash", "consistent_hash", "consistent_hash"},
	} {
		cfg := config.Default()
		cfg.Client.Balancer = tt.client
		if tt.obj != "" {
			cfg.Client.Objects = map[string]config.Object{"A.B.Obj": {Balancer: tt.obj}}
		}
		b, err := balancer(&cfg, "A.B.Obj")
		if err != nil || b.Name() != tt.want {
			t.Errorf("%s/%s: %v, %v; want %s", tt.client, tt.obj, b, err, tt.want)
		}
	}
	cfg := config.Default()
	cfg.Client.Balancer = "nearest"
	if _, err := balancer(&cfg, "A.B.Obj"); err == nil {
		t.Error("an unknown balancer was taken")
	}
}
