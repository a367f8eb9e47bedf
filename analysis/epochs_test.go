package analysis

import (
	"errors"
	"math/rand/v2"
	"testing"
)

// TestEpochsMainnet uses the real chain 0..14131: seven complete epochs at
// difficulty 1 and the start of the eighth. Bitcoin Core's pow_tests
// give the timestamps of blocks 0 and 2015.
func TestEpochsMainnet(t *testing.T) {
	hs := loadMainnet(t)
	epochs, err := Epochs(Mainnet, hs)
	if err != nil {
		t.Fatal(err)
	}
	if len(epochs) != 8 {
		t.Fatalf("got %d epochs, want 8", len(epochs))
	}
	if e := epochs[0]; e.StartTime != 1231006505 || e.EndTime != 1233061996 ||
		e.DurationS != 1233061996-1231006505 {
		t.Errorf("epoch 0: %+v", e)
	}
	for i, e := range epochs {
		complete := i < 7
		if e.Number != int32(i) || e.StartHeight != int32(2016*i) ||
			e.Complete != complete || e.Difficulty != 1 || e.ChangePct != 0 ||
			e.Bits != 0x1d00ffff {
			t.Errorf("epoch %d: %+v", i, e)
		}
		lookup, height := 2016, e.EndHeight
		if !complete {
			lookup, height = -1, -1
		}
		want, err := NetworkHashPS(Mainnet, hs, lookup, height)
		if err != nil {
			t.Fatal(err)
		}
		if e.Hashrate.HashesPerSec != want.HashesPerSec ||
			e.Hashrate.FromHeight != want.FromHeight || e.Hashrate.Lo != want.Lo {
			t.Errorf("epoch %d hashrate %+v, want %+v", i, e.Hashrate, want)
		}
	}
	if last := epochs[7]; last.EndHeight != 14131 || last.StartHeight != 14112 {
		t.Errorf("current epoch: %+v", last)
	}
}

func TestEpochsChanges(t *testing.T) {
	rng := rand.New(rand.NewPCG(50, 51))
	hs := messyChain(rng, 2016*5) // ends exactly at an epoch's last block
	epochs, err := Epochs(Mainnet, hs)
	if err != nil {
		t.Fatal(err)
	}
	if len(epochs) != 5 || !epochs[4].Complete {
		t.Fatalf("got %d epochs, last complete=%v", len(epochs),
			epochs[len(epochs)-1].Complete)
	}
	for i := 1; i < len(epochs); i++ {
		prev, cur := Difficulty(hs[2016*(i-1)].Bits), Difficulty(hs[2016*i].Bits)
		if want := (cur - prev) / prev * 100; !close(epochs[i].ChangePct, want, 1e-9) {
			t.Errorf("epoch %d change %v, want %v", i, epochs[i].ChangePct, want)
		}
	}

	if _, err := Epochs(Mainnet, hs[1:]); !errors.Is(err, ErrNeedHeaders) {
		t.Errorf("not from genesis: err = %v", err)
	}
	single, err := Epochs(Mainnet, hs[:1])
	if err != nil || len(single) != 1 || single[0].Hashrate.HashesPerSec != 0 {
		t.Errorf("genesis only: %+v, %v", single, err)
	}
}
