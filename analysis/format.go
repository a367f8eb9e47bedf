package analysis

import (
	"fmt"
	"math"
)

// hashUnits are the SI units FormatHashrate chooses from, 1000 apart.
var hashUnits = []string{"H/s", "kH/s", "MH/s", "GH/s", "TH/s", "PH/s",
	"EH/s", "ZH/s"}

// difficultyUnits are the SI suffixes FormatDifficulty chooses from.
var difficultyUnits = []string{"", " k", " M", " G", " T", " P", " E",
	" Z"}

// FormatHashrate renders hashes per second for people, with two decimals in
// the largest SI unit that keeps the number at least 1: "12.34 EH/s".
func FormatHashrate(hps float64) string {
	value, unit := scaleSI(hps, hashUnits)
	return fmt.Sprintf("%.2f %s", value, unit)
}

// FormatDifficulty renders a difficulty with two decimals and an SI suffix
// when it is 1000 or more: "155.97 T", "1.00".
func FormatDifficulty(d float64) string {
	value, unit := scaleSI(d, difficultyUnits)
	return fmt.Sprintf("%.2f%s", value, unit)
}

// scaleSI divides v by 1000 until it is below 1000 (as printed with two
// decimals) or the units run out, and returns it with its unit.
func scaleSI(v float64, units []string) (float64, string) {
	i := 0
	for i < len(units)-1 && !math.IsInf(v, 0) &&
		math.Abs(math.Round(v*100)/100) >= 1000 {

		v /= 1000
		i++
	}
	return v, units[i]
}
