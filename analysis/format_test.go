package analysis

import (
	"math"
	"testing"
)

func TestFormatHashrate(t *testing.T) {
	tests := []struct {
		hps  float64
		want string
	}{
		{0, "0.00 H/s"},
		{0.5, "0.50 H/s"},
		{999.994, "999.99 H/s"},
		{999.996, "1.00 kH/s"},
		{7.158e6, "7.16 MH/s"},
		{12.34e18, "12.34 EH/s"},
		{1.5e21, "1.50 ZH/s"},
		{2e24, "2000.00 ZH/s"},
		{math.Inf(1), "+Inf H/s"},
	}
	for _, tt := range tests {
		if got := FormatHashrate(tt.hps); got != tt.want {
			t.Errorf("FormatHashrate(%v) = %q, want %q", tt.hps, got, tt.want)
		}
	}
}

func TestFormatDifficulty(t *testing.T) {
	tests := []struct {
		d    float64
		want string
	}{
		{1, "1.00"},
		{16307.420938523983, "16.31 k"},
		{155.97e12, "155.97 T"},
		{0.000016, "0.00"},
	}
	for _, tt := range tests {
		if got := FormatDifficulty(tt.d); got != tt.want {
			t.Errorf("FormatDifficulty(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
