package userserver

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/example/userservice/userapi"
)

func newStore(t *testing.T, n int) *Store {
	t.Helper()
	s := NewStore()
	s.now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("user%02d", i)
		r, _ := s.CreateUser(context.Background(), userapi.UserInfoArgs{UserInfo: userapi.UserInfo{UserName: name, Email: name + "@x.org"}})
		if r.Ret != 0 || r.Result.UserID != int32(i) || r.Result.CreateTime != "2026-01-02 03:04:05" {
			t.Fatalf("create %d: %+v", i, r)
		}
	}
	return s
}

func TestQueryUsersPaging(t *testing.T) {
	s := newStore(t, 25)
	ctx := context.Background()
	tests := []struct {
		q                    userapi.UserQuery
		total, page, size, n int32
		first                int32
	}{
		{userapi.UserQuery{}, 25, 1, 10, 10, 1},                            // defaults
		{userapi.UserQuery{Page: 3}, 25, 3, 10, 5, 21},                     // last page
		{userapi.UserQuery{Page: 4}, 25, 4, 10, 0, 0},                      // past the end
		{userapi.UserQuery{Page: -2, PageSize: 500}, 25, 1, 100, 25, 1},    // clamped
		{userapi.UserQuery{PageSize: -5}, 25, 1, 1, 1, 1},                  // at least 1
		{userapi.UserQuery{UserName: "user1"}, 10, 1, 10, 10, 10},          // substring: user10..user19
		{userapi.UserQuery{UserID: 7}, 1, 1, 10, 1, 7},                     // exact id
		{userapi.UserQuery{UserID: 7, UserName: "user08"}, 0, 1, 10, 0, 0}, // filters combine
		{userapi.UserQuery{Email: "user2"}, 6, 1, 10, 6, 20},               // user20..user25
	}
	for _, tt := range tests {
		p, err := s.QueryUsers(ctx, userapi.QueryArgs{Query: tt.q})
		if err != nil || p.Total != tt.total || p.Page != tt.page || p.PageSize != tt.size || int32(len(p.Users)) != tt.n {
			t.Errorf("%+v: got total %d page %d size %d n %d, %v", tt.q, p.Total, p.Page, p.PageSize, len(p.Users), err)
			continue
		}
		if tt.n > 0 && p.Users[0].UserID != tt.first {
			t.Errorf("%+v: first id %d, want %d", tt.q, p.Users[0].UserID, tt.first)
		}
		for i := 1; i < len(p.Users); i++ {
			if p.Users[i-1].UserID >= p.Users[i].UserID {
				t.Errorf("%+v: not sorted by id", tt.q)
			}
		}
	}
}

func TestUpdateDeleteGet(t *testing.T) {
	s := newStore(t, 2)
	ctx := context.Background()
	r, _ := s.UpdateUser(ctx, userapi.UserInfoArgs{})
	if r.Ret != 1 {
		t.Fatalf("update without id: %d", r.Ret)
	}
	if r, _ = s.UpdateUser(ctx, userapi.UserInfoArgs{UserInfo: userapi.UserInfo{UserID: 99}}); r.Ret != 2 {
		t.Fatalf("update unknown: %d", r.Ret)
	}
	s.UpdateUser(ctx, userapi.UserInfoArgs{UserInfo: userapi.UserInfo{UserID: 1, Metadata: map[string]string{"a": "1"}, Tags: []string{"x"}}})
	r, _ = s.UpdateUser(ctx, userapi.UserInfoArgs{UserInfo: userapi.UserInfo{UserID: 1, Age: 5, Metadata: map[string]string{"b": "2"}}})
	if r.Ret != 0 || r.Result.Age != 5 || len(r.Result.Metadata) != 2 || r.Result.Tags[0] != "x" || r.Result.UserName != "user01" {
		t.Fatalf("merge: %+v", r.Result)
	}
	// The caller's maps are not the store's.
	r.Result.Metadata["c"] = "3"
	if u, _ := s.GetUser(ctx, userapi.UserIDArgs{UserID: 1}); len(u.Metadata) != 2 {
		t.Fatal("store shares its map with callers")
	}
	if ret, _ := s.DeleteUser(ctx, userapi.UserIDArgs{UserID: 2}); ret != 0 {
		t.Fatal(ret)
	}
	if ret, _ := s.DeleteUser(ctx, userapi.UserIDArgs{UserID: 2}); ret != 2 {
		t.Fatal(ret)
	}
	_, err := s.GetUser(ctx, userapi.UserIDArgs{UserID: 2})
	var te *tars.Error
	if !errors.As(err, &te) || te.Code != 2 || te.Message != "user 2 not found" {
		t.Fatalf("get deleted: %v", err)
	}
	got, _ := s.BatchGetUsers(ctx, userapi.UserIDsArgs{UserIDs: []int32{2, 1, 1, 5}})
	if len(got) != 2 || got[0].UserID != 1 || got[1].UserID != 1 {
		t.Fatalf("batch: %+v", got)
	}
}

func TestConcurrentCreates(t *testing.T) {
	s := NewStore()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				s.CreateUser(context.Background(), userapi.UserInfoArgs{UserInfo: userapi.UserInfo{UserName: "n", Email: "e"}})
			}
		}()
	}
	wg.Wait()
	p, _ := s.QueryUsers(context.Background(), userapi.QueryArgs{Query: userapi.UserQuery{PageSize: 100, Page: 8}})
	if p.Total != 800 || p.Users[len(p.Users)-1].UserID != 800 {
		t.Fatalf("ids not 1..800: total %d", p.Total)
	}
}
