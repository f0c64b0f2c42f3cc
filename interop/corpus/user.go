package corpus

// UserInfo mirrors UserService::UserInfo from the seed article (section 5.1).
type UserInfo struct {
	UserID     int32             `tars:"0,name=userId"`
	UserName   string            `tars:"1"`
	Email      string            `tars:"2"`
	Age        int32             `tars:"3"`
	CreateTime string            `tars:"4"`
	Tags       []string          `tars:"5"`
	Metadata   map[string]string `tars:"6"`
}

// UserQuery mirrors UserService::UserQuery.
type UserQuery struct {
	UserID   int32  `tars:"0,name=userId"`
	UserName string `tars:"1"`
	Email    string `tars:"2"`
	Page     int32  `tars:"3"`
	PageSize int32  `tars:"4"`
}

// UserPage mirrors UserService::UserPage.
type UserPage struct {
	Users    []UserInfo `tars:"0"`
	Total    int32      `tars:"1"`
	Page     int32      `tars:"2"`
	PageSize int32      `tars:"3"`
}
