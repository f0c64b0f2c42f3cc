package interop

import (
	"context"
	"errors"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tarsgo "github.com/TarsCloud/TarsGo/tars"

	"github.com/gotars/tars"
	"github.com/gotars/tars/example/userservice/userapi"
	"github.com/gotars/tars/example/userservice/userdemo"
	"github.com/gotars/tars/example/userservice/userserver"
	kinds "github.com/gotars/tars/idl/testdata/golden/types"
	idlkinds "github.com/gotars/tars/interop/idlgen/Kinds"
	idluser "github.com/gotars/tars/interop/idlgen/UserService"
)

// TestIDLTarsGoClientCallsOurServer: the TarsGo client that tars2go
// generates from the exported UserService.tars calls gotars' example
// server, all six methods, and gets the right answers — the parameter
// layout idl-export printed (in parameters, return value, out parameters)
// is the one the server really carries.
func TestIDLTarsGoClientCallsOurServer(t *testing.T) {
	addr := idlServeGotars(t, func(s *tars.Server) {
		userserver.Register(s, userapi.Servant, userserver.NewStore())
	})
	c := idluser.NewUserServiceClient(idlObj(userapi.Servant, addr), idlComm())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// createUser: int createUser(UserInfo userInfo, out UserInfo result)
	in := idluser.UserInfo{UserName: "ann", Email: "ann@example.com", Age: 30,
		Tags: []string{"admin"}, Metadata: map[string]string{"team": "infra"}}
	var ann idluser.UserInfo
	ret, err := c.CreateUserWithContext(ctx, &in, &ann)
	if err != nil || ret != userapi.RetOK || ann.UserId == 0 || ann.UserName != "ann" || ann.Age != 30 ||
		!slices.Equal(ann.Tags, in.Tags) || !maps.Equal(ann.Metadata, in.Metadata) {
		t.Fatalf("createUser: ret %d, %+v, %v", ret, ann, err)
	}
	if _, err := time.Parse(time.DateTime, ann.CreateTime); err != nil {
		t.Errorf("createUser: createTime %q", ann.CreateTime)
	}
	var none idluser.UserInfo
	if ret, err := c.CreateUserWithContext(ctx, &idluser.UserInfo{UserName: "no-email"}, &none); err != nil || ret != userapi.RetInvalid {
		t.Errorf("createUser without email: ret %d, %v", ret, err)
	}
	var bob idluser.UserInfo
	if ret, err := c.CreateUserWithContext(ctx, &idluser.UserInfo{UserName: "bob", Email: "bob@example.com"}, &bob); err != nil || ret != 0 {
		t.Fatalf("createUser bob: ret %d, %v", ret, err)
	}

	// getUser: UserInfo getUser(int userId)
	got, err := c.GetUserWithContext(ctx, ann.UserId)
	if err != nil || got.UserId != ann.UserId || got.Email != ann.Email || got.CreateTime != ann.CreateTime {
		t.Errorf("getUser: %+v, %v", got, err)
	}
	_, err = c.GetUserWithContext(ctx, 999999)
	var te *tarsgo.Error
	if !errors.As(err, &te) || te.Code != userapi.RetNotFound {
		t.Errorf("getUser of an unknown id: %v, want a *tars.Error with code 2", err)
	}

	// updateUser: int updateUser(UserInfo userInfo, out UserInfo result)
	var upd idluser.UserInfo
	ret, err = c.UpdateUserWithContext(ctx, &idluser.UserInfo{UserId: ann.UserId, Age: 31, Metadata: map[string]string{"level": "senior"}}, &upd)
	if err != nil || ret != 0 || upd.Age != 31 || !maps.Equal(upd.Metadata, map[string]string{"team": "infra", "level": "senior"}) {
		t.Errorf("updateUser: ret %d, %+v, %v", ret, upd, err)
	}

	// batchGetUsers: vector<UserInfo> batchGetUsers(vector<int> userIds)
	users, err := c.BatchGetUsersWithContext(ctx, []int32{bob.UserId, 999999, ann.UserId})
	if err != nil || len(users) != 2 || users[0].UserId != bob.UserId || users[1].UserId != ann.UserId {
		t.Errorf("batchGetUsers: %+v, %v", users, err)
	}

	// queryUsers: UserPage queryUsers(UserQuery query)
	page, err := c.QueryUsersWithContext(ctx, &idluser.UserQuery{Email: "example.com", PageSize: 1, Page: 2})
	if err != nil || page.Total != 2 || page.Page != 2 || page.PageSize != 1 || len(page.Users) != 1 || page.Users[0].UserId != bob.UserId {
		t.Errorf("queryUsers: %+v, %v", page, err)
	}

	// deleteUser: int deleteUser(int userId)
	if ret, err := c.DeleteUserWithContext(ctx, bob.UserId); err != nil || ret != userapi.RetOK {
		t.Errorf("deleteUser: ret %d, %v", ret, err)
	}
	if ret, err := c.DeleteUserWithContext(ctx, bob.UserId); err != nil || ret != userapi.RetNotFound {
		t.Errorf("deleteUser again: ret %d, %v", ret, err)
	}
}

// TestIDLOurClientCallsTarsGoServer is the round trip Go definitions →
// idl-export → tars2go → TarsGo server: a TarsGo server built on the code
// generated from the exported UserService.tars (idlStore below, on
// TarsGo's transport) serves gotars' example client, whose demo calls all
// six methods and checks every answer.
func TestIDLOurClientCallsTarsGoServer(t *testing.T) {
	addr := idlServeTarsGo(t, idluser.NewUserService(), newIDLStore())
	c, err := tars.NewClient(idlObj(userapi.Servant, addr))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var log strings.Builder
	if err := userdemo.Run(ctx, c, &log); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	t.Logf("userdemo against the TarsGo server of the exported IDL:\n%s", log.String())
	// And the demo runs again against the same store (it cleans up).
	if err := userdemo.Run(ctx, c, io.Discard); err != nil {
		t.Fatal(err)
	}
}

// idlStore is the example UserService written on the TarsGo code generated
// from the exported IDL, with the rules of gotars' example server.
type idlStore struct {
	mu     sync.Mutex
	users  map[int32]idluser.UserInfo
	nextID int32
}

var _ idluser.UserServiceServantWithContext = (*idlStore)(nil)

func newIDLStore() *idlStore { return &idlStore{users: map[int32]idluser.UserInfo{}} }

func idlClone(u idluser.UserInfo) idluser.UserInfo {
	u.Tags = slices.Clone(u.Tags)
	u.Metadata = maps.Clone(u.Metadata)
	return u
}

func (s *idlStore) CreateUser(_ context.Context, in *idluser.UserInfo, result *idluser.UserInfo) (int32, error) {
	if in.UserName == "" || in.Email == "" {
		return userapi.RetInvalid, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	u := idlClone(*in)
	u.UserId, u.CreateTime = s.nextID, time.Now().Format(time.DateTime)
	s.users[u.UserId] = u
	*result = idlClone(u)
	return userapi.RetOK, nil
}

func (s *idlStore) GetUser(_ context.Context, id int32) (idluser.UserInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		return u, &tarsgo.Error{Code: userapi.RetNotFound, Message: "user " + strconv.Itoa(int(id)) + " not found"}
	}
	return idlClone(u), nil
}

func (s *idlStore) UpdateUser(_ context.Context, in *idluser.UserInfo, result *idluser.UserInfo) (int32, error) {
	if in.UserId == 0 {
		return userapi.RetInvalid, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[in.UserId]
	if !ok {
		return userapi.RetNotFound, nil
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
			u.Metadata = map[string]string{}
		}
		maps.Copy(u.Metadata, in.Metadata)
	}
	s.users[u.UserId] = u
	*result = idlClone(u)
	return userapi.RetOK, nil
}

func (s *idlStore) DeleteUser(_ context.Context, id int32) (int32, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[id]; !ok {
		return userapi.RetNotFound, nil
	}
	delete(s.users, id)
	return userapi.RetOK, nil
}

func (s *idlStore) QueryUsers(_ context.Context, q *idluser.UserQuery) (idluser.UserPage, error) {
	page := max(q.Page, 1)
	size := q.PageSize
	if size == 0 {
		size = 10
	}
	size = min(max(size, 1), 100)
	s.mu.Lock()
	var hits []idluser.UserInfo
	for _, u := range s.users {
		if q.UserId != 0 && u.UserId != q.UserId || !strings.Contains(u.UserName, q.UserName) || !strings.Contains(u.Email, q.Email) {
			continue
		}
		hits = append(hits, idlClone(u))
	}
	s.mu.Unlock()
	slices.SortFunc(hits, func(a, b idluser.UserInfo) int { return int(a.UserId) - int(b.UserId) })
	out := idluser.UserPage{Total: int32(len(hits)), Page: page, PageSize: size, Users: []idluser.UserInfo{}}
	if from := int(page-1) * int(size); from < len(hits) {
		out.Users = append(out.Users, hits[from:min(from+int(size), len(hits))]...)
	}
	return out, nil
}

func (s *idlStore) BatchGetUsers(_ context.Context, ids []int32) ([]idluser.UserInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []idluser.UserInfo{}
	for _, id := range ids {
		if u, ok := s.users[id]; ok {
			out = append(out, idlClone(u))
		}
	}
	return out, nil
}

// TestIDLEverything serves every method shape of the Kinds module
// (idl/testdata/golden/types: void, no parameters, in only, out only,
// return value and out parameters, enums, vectors, maps, pointers, fixed
// arrays, defaults) from a gotars server, and calls each with the TarsGo
// client generated from the exported Kinds.tars. Every value is checked on
// both sides: the handlers check what TarsGo sent, the test what came back.
func TestIDLEverything(t *testing.T) {
	var mu sync.Mutex
	var fired []int32
	bad := func(format string, args ...any) { t.Errorf("server: "+format, args...) }
	const everything, second = "Kinds.EverythingObj", "Kinds.SecondObj"
	checkArgs := func(a kinds.ManyArgs) {
		if a.Name != "n" || !slices.Equal(a.Colors, []kinds.Color{kinds.Red, kinds.Black}) || a.Meta["k"] != "v" ||
			a.Tree == nil || a.Tree.Value != 3 || len(a.Tree.Children) != 1 || a.Tree.Children[0].Value != 4 ||
			a.Tree.ByName["x"].Value != 5 || a.Tree.Leaf == nil || a.Tree.Leaf.I32 != 6 || a.Tree.Tag == nil || *a.Tree.Tag != kinds.Green ||
			!slices.Equal(a.Blob, []byte{1, 2, 255}) || a.Small != 250 {
			bad("ManyArgs %+v", a)
		}
	}
	scalars := func(id int32) kinds.Scalars {
		return kinds.Scalars{B: true, I8: -8, U8: 200, I16: -300, U16: 60000, I32: id, U32: 4000000000, I64: -1 << 40,
			F32: 1.5, F64: -2.25, S: "s" + strconv.Itoa(int(id)), R: 'x', By: 7, N: "name", Fl: -2}
	}
	addr := idlServeGotars(t, func(s *tars.Server) {
		tars.Handle(s, everything, kinds.Ping, func(context.Context, tars.Void) (tars.Void, error) { return tars.Void{}, nil })
		tars.Handle(s, everything, kinds.Empty, func(context.Context, kinds.NoArgs) (kinds.NoArgs, error) { return kinds.NoArgs{}, nil })
		tars.Handle(s, everything, kinds.Get, func(_ context.Context, a kinds.OneArg) (kinds.Scalars, error) { return scalars(a.ID), nil })
		tars.Handle(s, everything, kinds.Put, func(_ context.Context, a kinds.ManyArgs) (kinds.VoidResults, error) {
			checkArgs(a)
			return kinds.VoidResults{Count: int32(len(a.Colors)*100 + len(a.Blob)), Note: string(a.Name) + ":" + strconv.Itoa(int(a.Tree.Value))}, nil
		})
		tars.Handle(s, everything, kinds.Walk, func(_ context.Context, a kinds.ManyArgs) (kinds.RetResults, error) {
			checkArgs(a)
			return kinds.RetResults{Ret: a.Colors[len(a.Colors)-1], Tree: kinds.Tree{Value: a.Tree.Value * 2, Children: []kinds.Tree{*a.Tree}}}, nil
		})
		tars.Handle(s, everything, kinds.Code, func(context.Context, tars.Void) (kinds.OnlyRet, error) { return kinds.OnlyRet{Code: -42}, nil })
		tars.Handle(s, everything, kinds.List, func(_ context.Context, a kinds.OneArg) ([]kinds.Containers, error) {
			sc := scalars(a.ID)
			return []kinds.Containers{{Bytes: []byte{1, 2, 3}, Int8s: []int8{-1}, Fixed: [4]byte{9, 8, 7, 6}, Strs: []string{"a"},
				Arr: [3]int64{1, 2, 3}, Matrix: [][]int32{{1}, {2, 3}}, SS: map[string]string{"k": "v"},
				ByColor: map[kinds.Color]string{kinds.Green: "g"}, Nested: map[int32]map[string]kinds.IDs{1: {"a": {7}}},
				PtrElems: []*kinds.Scalars{&sc}, Flags: []kinds.Flag{-3}, BoolKeys: map[bool]float64{true: 0.5},
				Required: []uint16{65535}, PtrValues: map[string]*kinds.Color{"b": new(kinds.Blue)}}}, nil
		})
		tars.Handle(s, everything, kinds.Index, func(_ context.Context, a kinds.OneArg) (map[string][]kinds.Defaults, error) {
			return map[string][]kinds.Defaults{"k": {{I: a.ID, C: kinds.Black, L: kinds.LevelLow, S: "changed"}}}, nil
		})
		tars.Handle(s, everything, kinds.Count, func(_ context.Context, a kinds.OneArg) (uint32, error) { return 3000000000 + uint32(a.ID), nil })
		tars.Handle(s, everything, kinds.Maybe, func(_ context.Context, a kinds.OneArg) (*kinds.Tree, error) {
			if a.ID == 0 {
				return nil, nil
			}
			return &kinds.Tree{Value: a.ID}, nil
		})
		tars.Handle(s, everything, kinds.Bytes, func(context.Context, tars.Void) ([]byte, error) { return []byte{0, 127, 255}, nil })
		tars.Handle(s, everything, kinds.Named, func(_ context.Context, a kinds.OneArg) (kinds.Names, error) {
			return kinds.Names{ID: a.ID, HTTPPort: 8080, UserID: 3, Renamed: "r", Skipped: "not sent", High: 200}, nil
		})
		tars.Handle(s, everything, kinds.Level0, func(_ context.Context, a kinds.OneArg) (kinds.Level, error) { return kinds.Level(a.ID), nil })
		tars.Handle(s, everything, kinds.Fire, func(_ context.Context, a kinds.OneArg) (tars.Void, error) {
			mu.Lock()
			fired = append(fired, a.ID)
			mu.Unlock()
			return tars.Void{}, nil
		})
		tars.Handle(s, second, kinds.Echo, func(_ context.Context, a kinds.OneArg) (kinds.OneArg, error) { return kinds.OneArg{ID: a.ID + 1}, nil })
	})
	c := idlkinds.NewEverythingClient(idlObj(everything, addr), idlComm())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	check := func(method string, err error, ok bool, got any) {
		t.Helper()
		if err != nil || !ok {
			t.Errorf("%s: %+v, %v", method, got, err)
		}
	}
	err := c.PingWithContext(ctx)
	check("ping", err, true, nil)
	e, err := c.EmptyWithContext(ctx)
	check("empty", err, true, e)
	sc, err := c.GetWithContext(ctx, 9)
	check("get", err, sc == idlkinds.Scalars{B: true, I8: -8, U8: 200, I16: -300, U16: 60000, I32: 9, U32: 4000000000, I64: -1 << 40,
		F32: 1.5, F64: -2.25, S: "s9", R: 'x', By: 7, N: "name", Fl: -2}, sc)

	gtree := idlkinds.Tree{Value: 3, Children: []idlkinds.Tree{{Value: 4}}, ByName: map[string]idlkinds.Tree{"x": {Value: 5}},
		Leaf: idlkinds.Scalars{I32: 6, B: true}, Tag: idlkinds.Color_Green}
	colors := []idlkinds.Color{idlkinds.Color_Red, idlkinds.Color_Black}
	meta := map[string]string{"k": "v"}
	blob := []int8{1, 2, -1}
	var count int32
	var note string
	err = c.PutWithContext(ctx, "n", colors, meta, &gtree, blob, 250, &count, &note)
	check("put (void, out int count, out string note)", err, count == 203 && note == "n:3", []any{count, note})
	var sub idlkinds.Tree
	col, err := c.WalkWithContext(ctx, "n", colors, meta, &gtree, blob, 250, &sub)
	check("walk (Color return, out Tree subtree)", err, col == idlkinds.Color_Black && sub.Value == 6 && len(sub.Children) == 1 && sub.Children[0].Leaf.I32 == 6, []any{col, sub})
	code, err := c.CodeWithContext(ctx)
	check("code (result list with only the return value)", err, code == -42, code)
	list, err := c.ListWithContext(ctx, 5)
	ok := len(list) == 1
	if ok {
		l := list[0]
		ok = slices.Equal(l.Bytes, []int8{1, 2, 3}) && slices.Equal(l.Fixed, []int8{9, 8, 7, 6}) && slices.Equal(l.Arr, []int64{1, 2, 3}) &&
			len(l.Matrix) == 2 && l.Matrix[1][1] == 3 && l.ByColor[idlkinds.Color_Green] == "g" && l.Nested[1]["a"][0] == 7 &&
			len(l.PtrElems) == 1 && l.PtrElems[0].I32 == 5 && l.Flags[0] == -3 && l.BoolKeys[true] == 0.5 &&
			l.Required[0] == 65535 && l.PtrValues["b"] == idlkinds.Color_Blue && l.Ss["k"] == "v" && l.Int8s[0] == -1
	}
	check("list (vector<Containers>: arrays, pointers, nested maps)", err, ok, list)
	idx, err := c.IndexWithContext(ctx, 4)
	ok = len(idx["k"]) == 1
	if ok {
		d := idx["k"][0]
		// Fields left at their Go zero value travel as such; those equal
		// to their IDL default are left out and read back as the default.
		ok = d.I == 4 && d.C == idlkinds.Color_Black && d.L == idlkinds.Level_LevelLow && d.S == "changed" && d.Req == 0 && d.Hex == 0
	}
	check("index (map<string, vector<Defaults>>)", err, ok, idx)
	n, err := c.CountWithContext(ctx, 1)
	check("count (unsigned int)", err, n == 3000000001, n)
	mt, err := c.MaybeWithContext(ctx, 7)
	check("maybe (*Tree)", err, mt.Value == 7, mt)
	mt, err = c.MaybeWithContext(ctx, 0)
	check("maybe (nil *Tree)", err, mt.Value == 0 && mt.Children == nil, mt)
	bs, err := c.BytesWithContext(ctx)
	check("bytes (vector<byte> return)", err, slices.Equal(bs, []int8{0, 127, -1}), bs)
	nm, err := c.NamedWithContext(ctx, 2)
	check("named", err, nm == idlkinds.Names{Id: 2, HttpPort: 8080, UserID: 3, SRenamed: "r", High: 200}, nm)
	lv, err := c.LevelWithContext(ctx, 2)
	check("level (enum return)", err, lv == idlkinds.Level_LevelHigh, lv)
	err = c.FireWithContext(ctx, 11)
	mu.Lock()
	check("fire (void)", err, slices.Equal(fired, []int32{11}), fired)
	mu.Unlock()

	s2 := idlkinds.NewSecondClient(idlObj(second, addr), idlComm())
	echo, err := s2.EchoWithContext(ctx, 41)
	check("Second.echo", err, echo.Id == 42, echo)
}
