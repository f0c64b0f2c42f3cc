package reflectcodec_test

import (
	"fmt"

	"github.com/gotars/tars/codec/reflectcodec"
)

type User struct {
	ID    int32             `tars:"0,require,name=id"`
	Name  string            `tars:"1,name=name"`
	Level int32             `tars:"2,default=1"`
	Tags  []string          `tars:"3"`
	Meta  map[string]string `tars:"4"`
}

func Example() {
	b, err := reflectcodec.Marshal(&User{ID: 7, Name: "ada", Level: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	// The require id, the name; Level equals its default and the empty
	// optional vector and map are left out, as tars2go's code does.
	fmt.Printf("% x\n", b)

	var u User
	if err := reflectcodec.Unmarshal(b, &u); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%+v\n", u)

	// A missing require field is an error naming the type and field.
	err = reflectcodec.Unmarshal([]byte{0x16, 0x01, 'x'}, &u)
	fmt.Println(err != nil)
	// Output:
	// 00 07 16 03 61 64 61
	// {ID:7 Name:ada Level:1 Tags:[] Meta:map[]}
	// true
}

func ExampleFor() {
	c, err := reflectcodec.For[User]() // compiled once, checked here
	if err != nil {
		fmt.Println(err)
		return
	}
	buf, _ := c.Append(nil, &User{ID: 1, Tags: []string{"a"}})
	var u User
	_ = c.Unmarshal(buf, &u)
	fmt.Println(u.ID, u.Tags, u.Level) // Level 0 differs from its default 1: it was written
	// Output: 1 [a] 0
}

func ExampleRegister() {
	type Bad struct {
		N int `tars:"0"` // Go int has no fixed TARS width
	}
	fmt.Println(reflectcodec.Register(Bad{}))
	// Output: reflectcodec: reflectcodec_test.Bad.N: Go int has no fixed TARS width; use int32 or int64 (uint32 for unsigned int)
}

// A struct's IDL defaults, as tars2go's ResetDefault sets them.
func ExampleDefault() {
	type Settings struct {
		Retries int32   `tars:"0,default=3"`
		Host    string  `tars:"1,default=localhost"`
		Ratio   float64 `tars:"2,default=0.5"`
		Debug   bool    `tars:"3"`
	}
	s, err := reflectcodec.Default[Settings]()
	if err != nil {
		panic(err)
	}
	fmt.Printf("%+v\n", s)
	// Output: {Retries:3 Host:localhost Ratio:0.5 Debug:false}
}
