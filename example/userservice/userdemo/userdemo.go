// Package userdemo is the example UserService client's demo: it creates,
// reads, updates, batch-reads, queries and deletes users through any server
// of the seed's user.tars, checks every answer and reports each step.
package userdemo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/gotars/tars"
	"github.com/gotars/tars/example/userservice/userapi"
)

// Run performs the demo against the server behind c, printing one line per
// step to out. It returns an error at the first wrong answer. It makes no
// assumption about users already stored: names it creates carry a unique
// suffix.
func Run(ctx context.Context, c *tars.Client, out io.Writer) error {
	suffix := fmt.Sprintf("%x", time.Now().UnixNano())
	step := func(format string, args ...any) { fmt.Fprintf(out, format+"\n", args...) }
	wrong := func(what string, args ...any) error { return fmt.Errorf("demo: "+what, args...) }

	// createUser
	alice := userapi.UserInfo{UserName: "alice-" + suffix, Email: "alice-" + suffix + "@example.com", Age: 30,
		Tags: []string{"admin", "dev"}, Metadata: map[string]string{"team": "infra"}}
	r, err := userapi.CreateUser.Call(ctx, c, userapi.UserInfoArgs{UserInfo: alice})
	if err != nil {
		return wrong("createUser: %w", err)
	}
	if r.Ret != userapi.RetOK || r.Result.UserID == 0 || r.Result.UserName != alice.UserName ||
		!slices.Equal(r.Result.Tags, alice.Tags) || !maps.Equal(r.Result.Metadata, alice.Metadata) {
		return wrong("createUser returned %d %+v", r.Ret, r.Result)
	}
	if _, err := time.Parse(time.DateTime, r.Result.CreateTime); err != nil {
		return wrong("createUser: createTime %q is not YYYY-MM-DD HH:MM:SS", r.Result.CreateTime)
	}
	alice = r.Result
	step("createUser  %-28s -> ret %d, userId %d, createTime %s", alice.UserName, r.Ret, alice.UserID, alice.CreateTime)

	bob := userapi.UserInfo{UserName: "bob-" + suffix, Email: "bob-" + suffix + "@example.com", Age: 25}
	if r, err = userapi.CreateUser.Call(ctx, c, userapi.UserInfoArgs{UserInfo: bob}); err != nil || r.Ret != userapi.RetOK {
		return wrong("createUser bob: ret %d, %v", r.Ret, err)
	}
	bob = r.Result
	step("createUser  %-28s -> ret %d, userId %d", bob.UserName, r.Ret, bob.UserID)

	r, err = userapi.CreateUser.Call(ctx, c, userapi.UserInfoArgs{UserInfo: userapi.UserInfo{UserName: "no-email"}})
	if err != nil || r.Ret != userapi.RetInvalid {
		return wrong("createUser without email: want ret 1, got %d, %v", r.Ret, err)
	}
	step("createUser  %-28s -> ret %d (email is required)", "no-email", r.Ret)

	// getUser
	got, err := userapi.GetUser.Call(ctx, c, userapi.UserIDArgs{UserID: alice.UserID})
	if err != nil || !equalUser(got, alice) {
		return wrong("getUser %d: %+v, %v", alice.UserID, got, err)
	}
	step("getUser     %-28d -> %s <%s>", alice.UserID, got.UserName, got.Email)

	// updateUser: age replaced, metadata merged.
	r, err = userapi.UpdateUser.Call(ctx, c, userapi.UserInfoArgs{UserInfo: userapi.UserInfo{
		UserID: alice.UserID, Age: 31, Metadata: map[string]string{"level": "senior"}}})
	want := alice
	want.Age, want.Metadata = 31, map[string]string{"team": "infra", "level": "senior"}
	if err != nil || r.Ret != userapi.RetOK || !equalUser(r.Result, want) {
		return wrong("updateUser: ret %d %+v, %v", r.Ret, r.Result, err)
	}
	alice = r.Result
	step("updateUser  %-28d -> ret %d, age %d, metadata %v", alice.UserID, r.Ret, alice.Age, alice.Metadata)

	// batchGetUsers: unknown ids are skipped, order kept.
	missing := max(alice.UserID, bob.UserID) + 1_000_000
	users, err := userapi.BatchGetUsers.Call(ctx, c, userapi.UserIDsArgs{UserIDs: []int32{bob.UserID, missing, alice.UserID}})
	if err != nil || len(users) != 2 || !equalUser(users[0], bob) || !equalUser(users[1], alice) {
		return wrong("batchGetUsers: %+v, %v", users, err)
	}
	step("batchGetUsers [%d %d %d] -> %d users: %s, %s", bob.UserID, missing, alice.UserID, len(users), users[0].UserName, users[1].UserName)

	// queryUsers: substring filter on the unique suffix.
	page, err := userapi.QueryUsers.Call(ctx, c, userapi.QueryArgs{Query: userapi.UserQuery{UserName: suffix, PageSize: 1}})
	if err != nil || page.Total != 2 || len(page.Users) != 1 || page.Page != 1 || page.PageSize != 1 || page.Users[0].UserID != min(alice.UserID, bob.UserID) {
		return wrong("queryUsers: %+v, %v", page, err)
	}
	step("queryUsers  userName~%s pageSize 1 -> total %d, page %d: %s", suffix, page.Total, page.Page, page.Users[0].UserName)

	// deleteUser, then the user is gone.
	ret, err := userapi.DeleteUser.Call(ctx, c, userapi.UserIDArgs{UserID: bob.UserID})
	if err != nil || ret != userapi.RetOK {
		return wrong("deleteUser %d: ret %d, %v", bob.UserID, ret, err)
	}
	step("deleteUser  %-28d -> ret %d", bob.UserID, ret)
	_, err = userapi.GetUser.Call(ctx, c, userapi.UserIDArgs{UserID: bob.UserID})
	var te *tars.Error
	if !errors.As(err, &te) || te.Code == tars.CodeSuccess || te.Code < 0 && te.Code != tars.CodeServerUnknownErr {
		return wrong("getUser after delete: want a service error, got %v", err)
	}
	step("getUser     %-28d -> fails: code %d, %q", bob.UserID, te.Code, te.Message)
	ret, err = userapi.DeleteUser.Call(ctx, c, userapi.UserIDArgs{UserID: bob.UserID})
	if err != nil || ret != userapi.RetNotFound {
		return wrong("deleteUser again: want ret 2, got %d, %v", ret, err)
	}
	step("deleteUser  %-28d -> ret %d (not found)", bob.UserID, ret)
	// Leave the store as we found it.
	if ret, err = userapi.DeleteUser.Call(ctx, c, userapi.UserIDArgs{UserID: alice.UserID}); err != nil || ret != userapi.RetOK {
		return wrong("deleteUser %d: ret %d, %v", alice.UserID, ret, err)
	}
	step("demo passed")
	return nil
}

func equalUser(a, b userapi.UserInfo) bool {
	return a.UserID == b.UserID && a.UserName == b.UserName && a.Email == b.Email && a.Age == b.Age &&
		a.CreateTime == b.CreateTime && slices.Equal(a.Tags, b.Tags) && maps.Equal(a.Metadata, b.Metadata)
}
