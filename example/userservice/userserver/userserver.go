// Package userserver implements the example UserService: an in-memory user
// store, safe for concurrent use, and its six handlers.
package userserver

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/config"
	"github.com/gotars/tars/example/userservice/userapi"
)

// Store holds the users.
type Store struct {
	mu     sync.RWMutex
	users  map[int32]userapi.UserInfo
	nextID int32
	now    func() time.Time
}

// NewStore returns an empty store; ids are assigned from 1.
func NewStore() *Store {
	return &Store{users: map[int32]userapi.UserInfo{}, now: time.Now}
}

// Register serves the store's handlers as servant on srv.
func Register(srv *tars.Server, servant string, s *Store) {
	tars.Handle(srv, servant, userapi.CreateUser, s.CreateUser)
	tars.Handle(srv, servant, userapi.GetUser, s.GetUser)
	tars.Handle(srv, servant, userapi.UpdateUser, s.UpdateUser)
	tars.Handle(srv, servant, userapi.DeleteUser, s.DeleteUser)
	tars.Handle(srv, servant, userapi.QueryUsers, s.QueryUsers)
	tars.Handle(srv, servant, userapi.BatchGetUsers, s.BatchGetUsers)
}

// clone copies u so that callers and the store never share slices or maps.
func clone(u userapi.UserInfo) userapi.UserInfo {
	u.Tags = slices.Clone(u.Tags)
	u.Metadata = maps.Clone(u.Metadata)
	return u
}

// CreateUser stores a new user with the next id and the creation time. A
// user without userName or email is refused with 1 and an empty result.
func (s *Store) CreateUser(_ context.Context, a userapi.UserInfoArgs) (userapi.UserResult, error) {
	u := a.UserInfo
	if u.UserName == "" || u.Email == "" {
		return userapi.UserResult{Ret: userapi.RetInvalid}, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	u = clone(u)
	u.UserID = s.nextID
	u.CreateTime = s.now().Format(time.DateTime)
	s.users[u.UserID] = u
	return userapi.UserResult{Ret: userapi.RetOK, Result: clone(u)}, nil
}

// GetUser returns the user, or fails with code 2 naming the id.
func (s *Store) GetUser(_ context.Context, a userapi.UserIDArgs) (userapi.UserInfo, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, ok := s.users[a.UserID]
	if !ok {
		return userapi.UserInfo{}, tars.Errorf(userapi.RetNotFound, "user %d not found", a.UserID)
	}
	return clone(u), nil
}

// UpdateUser replaces the non-empty userName, email and tags and a non-zero
// age, and merges metadata. 1 without userId, 2 for an unknown id.
func (s *Store) UpdateUser(_ context.Context, a userapi.UserInfoArgs) (userapi.UserResult, error) {
	in := a.UserInfo
	if in.UserID == 0 {
		return userapi.UserResult{Ret: userapi.RetInvalid}, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[in.UserID]
	if !ok {
		return userapi.UserResult{Ret: userapi.RetNotFound}, nil
	}
	if in.UserName != "" {
		u.UserName = in.UserName
	}
	if in.Email != "" {
		u.Email = in.Email
	}
	if in.Age != 0 {
		u.Age = in.Age
	}
	if len(in.Tags) > 0 {
		u.Tags = slices.Clone(in.Tags)
	}
	if len(in.Metadata) > 0 {
		u.Metadata = maps.Clone(u.Metadata)
		if u.Metadata == nil {
			u.Metadata = make(map[string]string, len(in.Metadata))
		}
		maps.Copy(u.Metadata, in.Metadata)
	}
	s.users[u.UserID] = u
	return userapi.UserResult{Ret: userapi.RetOK, Result: clone(u)}, nil
}

// DeleteUser removes the user: 0, or 2 for an unknown id.
func (s *Store) DeleteUser(_ context.Context, a userapi.UserIDArgs) (int32, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[a.UserID]; !ok {
		return userapi.RetNotFound, nil
	}
	delete(s.users, a.UserID)
	return userapi.RetOK, nil
}

// QueryUsers filters (userName and email as substrings, a non-zero userId
// exactly), sorts by id and returns the page asked for: page defaults to 1
// (at least 1), pageSize to 10 (clamped to 1..100); total is the number of
// matches.
func (s *Store) QueryUsers(_ context.Context, a userapi.QueryArgs) (userapi.UserPage, error) {
	q := a.Query
	page := max(q.Page, 1)
	size := q.PageSize
	if size == 0 {
		size = 10
	}
	size = min(max(size, 1), 100)
	s.mu.RLock()
	var hits []userapi.UserInfo
	for _, u := range s.users {
		if q.UserID != 0 && u.UserID != q.UserID ||
			!strings.Contains(u.UserName, q.UserName) || !strings.Contains(u.Email, q.Email) {
			continue
		}
		hits = append(hits, u)
	}
	s.mu.RUnlock()
	slices.SortFunc(hits, func(a, b userapi.UserInfo) int { return int(a.UserID) - int(b.UserID) })
	out := userapi.UserPage{Total: int32(len(hits)), Page: page, PageSize: size, Users: []userapi.UserInfo{}}
	if from := int64(page-1) * int64(size); from < int64(len(hits)) {
		to := min(from+int64(size), int64(len(hits)))
		for _, u := range hits[from:to] {
			out.Users = append(out.Users, clone(u))
		}
	}
	return out, nil
}

// BatchGetUsers returns the users that exist, in the order asked; unknown
// ids are skipped.
func (s *Store) BatchGetUsers(_ context.Context, a userapi.UserIDsArgs) ([]userapi.UserInfo, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]userapi.UserInfo, 0, len(a.UserIDs))
	for _, id := range a.UserIDs {
		if u, ok := s.users[id]; ok {
			out = append(out, clone(u))
		}
	}
	return out, nil
}

// ErrNoServant is ServantsIn's error for a configuration that names no
// UserService servant.
var ErrNoServant = errors.New("config: no servant named …UserServiceObj to serve the UserService on")

// ServantsIn returns, sorted, the servants of cfg that serve the
// UserService: those whose name ends in UserServiceObj (userapi.Servant
// standalone; App.Server.UserServiceObj as tarsnode names it), or
// ErrNoServant.
func ServantsIn(cfg config.Config) ([]string, error) {
	var servants []string
	for name := range cfg.Servants {
		if strings.HasSuffix(name, "UserServiceObj") {
			servants = append(servants, name)
		}
	}
	if len(servants) == 0 {
		return nil, ErrNoServant
	}
	slices.Sort(servants)
	return servants, nil
}
