package screen

import "testing"

func TestFrameValidate(t *testing.T) {
	good, err := NewFrame(3, 2)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		f    *Frame
		ok   bool
	}{
		{"new", good, true},
		{"nil", nil, false},
		{"zero width", &Frame{Width: 0, Height: 2, Stride: 0, Pix: nil}, false},
		{"too wide", &Frame{Width: MaxDimension + 1, Height: 1, Stride: (MaxDimension + 1) * 4, Pix: make([]byte, (MaxDimension+1)*4)}, false},
		{"short stride", &Frame{Width: 3, Height: 2, Stride: 8, Pix: make([]byte, 24)}, false},
		{"short buffer", &Frame{Width: 3, Height: 2, Stride: 12, Pix: make([]byte, 23)}, false},
		{"padded stride", &Frame{Width: 3, Height: 2, Stride: 16, Pix: make([]byte, 28)}, true},
	}
	for _, c := range cases {
		if err := c.f.Validate(); (err == nil) != c.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", c.name, err, c.ok)
		}
	}
}

func TestRectWithin(t *testing.T) {
	cases := []struct {
		r    Rect
		want bool
	}{
		{Rect{0, 0, 10, 10}, true},
		{Rect{5, 5, 5, 5}, true},
		{Rect{5, 5, 6, 5}, false},
		{Rect{-1, 0, 1, 1}, false},
		{Rect{0, 0, -1, 1}, false},
	}
	for _, c := range cases {
		if got := c.r.Within(10, 10); got != c.want {
			t.Errorf("%+v.Within(10,10) = %v, want %v", c.r, got, c.want)
		}
	}
}
