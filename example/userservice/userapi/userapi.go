// Package userapi declares the seed article's UserService (its section 5.1
// user.tars) code-first: the structs, the service and its six endpoints.
// Servers register handlers for these endpoints; clients call them.
//
// The IDL it stands for:
//
//	module UserService {
//	    struct UserInfo  { 0 optional int userId; 1 optional string userName; 2 optional string email;
//	                       3 optional int age; 4 optional string createTime;
//	                       5 optional vector<string> tags; 6 optional map<string, string> metadata; };
//	    struct UserQuery { 0 optional int userId; 1 optional string userName; 2 optional string email;
//	                       3 optional int page; 4 optional int pageSize; };
//	    struct UserPage  { 0 optional vector<UserInfo> users; 1 optional int total;
//	                       2 optional int page; 3 optional int pageSize; };
//	    interface UserService {
//	        int createUser(UserInfo userInfo, out UserInfo result);
//	        UserInfo getUser(int userId);
//	        int updateUser(UserInfo userInfo, out UserInfo result);
//	        int deleteUser(int userId);
//	        UserPage queryUsers(UserQuery query);
//	        vector<UserInfo> batchGetUsers(vector<int> userIds);
//	    };
//	};
//
// The directive below names the TARS module (idl-export's output); without
// it the module would be the package name, userapi.
//
//tars:module UserService
package userapi

import "github.com/gotars/tars"

// Servant is the object name the example server serves the service as.
const Servant = "UserService.UserServiceObj"

// UserInfo is a user (用户信息结构体).
type UserInfo struct {
	UserID     int32             `tars:"0,name=userId"`
	UserName   string            `tars:"1,name=userName"`
	Email      string            `tars:"2,name=email"`
	Age        int32             `tars:"3,name=age"`
	CreateTime string            `tars:"4,name=createTime"` // "YYYY-MM-DD HH:MM:SS"
	Tags       []string          `tars:"5,name=tags"`
	Metadata   map[string]string `tars:"6,name=metadata"`
}

// UserQuery filters users (用户查询条件): UserName and Email are substring
// filters, a non-zero UserID matches exactly; Page counts from 1.
type UserQuery struct {
	UserID   int32  `tars:"0,name=userId"`
	UserName string `tars:"1,name=userName"`
	Email    string `tars:"2,name=email"`
	Page     int32  `tars:"3,name=page"`
	PageSize int32  `tars:"4,name=pageSize"`
}

// UserPage is one page of a query's results (分页结果); Total counts every
// match.
type UserPage struct {
	Users    []UserInfo `tars:"0,name=users"`
	Total    int32      `tars:"1,name=total"`
	Page     int32      `tars:"2,name=page"`
	PageSize int32      `tars:"3,name=pageSize"`
}

// UserService is the TARS interface.
var UserService = tars.NewService("UserService")

// UserInfoArgs is the parameter list (UserInfo userInfo).
type UserInfoArgs struct {
	UserInfo UserInfo `tars:"1,name=userInfo"`
}

// UserResult is the result list of createUser and updateUser: the int
// return value and the out parameter result.
type UserResult struct {
	tars.Results
	Ret    int32    `tars:"0"`
	Result UserInfo `tars:"2,name=result"`
}

// UserIDArgs is the parameter list (int userId).
type UserIDArgs struct {
	UserID int32 `tars:"1,name=userId"`
}

// QueryArgs is the parameter list (UserQuery query).
type QueryArgs struct {
	Query UserQuery `tars:"1,name=query"`
}

// UserIDsArgs is the parameter list (vector<int> userIds).
type UserIDsArgs struct {
	UserIDs []int32 `tars:"1,name=userIds"`
}

// The six methods.
var (
	// CreateUser stores a new user: int createUser(UserInfo userInfo, out UserInfo result).
	CreateUser = tars.NewEndpoint[UserInfoArgs, UserResult](UserService, "createUser")
	// GetUser returns a user by id: UserInfo getUser(int userId).
	GetUser = tars.NewEndpoint[UserIDArgs, UserInfo](UserService, "getUser", tars.Idempotent)
	// UpdateUser changes a user: int updateUser(UserInfo userInfo, out UserInfo result).
	UpdateUser = tars.NewEndpoint[UserInfoArgs, UserResult](UserService, "updateUser")
	// DeleteUser removes a user: int deleteUser(int userId).
	DeleteUser = tars.NewEndpoint[UserIDArgs, int32](UserService, "deleteUser")
	// QueryUsers returns a page of matching users: UserPage queryUsers(UserQuery query).
	QueryUsers = tars.NewEndpoint[QueryArgs, UserPage](UserService, "queryUsers", tars.Idempotent)
	// BatchGetUsers returns the users that exist among the ids, in the order
	// asked: vector<UserInfo> batchGetUsers(vector<int> userIds).
	BatchGetUsers = tars.NewEndpoint[UserIDsArgs, []UserInfo](UserService, "batchGetUsers", tars.Idempotent)
)

// Return codes of the service.
const (
	RetOK       = 0 // success
	RetInvalid  = 1 // a required field is missing
	RetNotFound = 2 // no user with that id
)
