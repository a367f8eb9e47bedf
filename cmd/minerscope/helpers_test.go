package main

import (
	"github.com/minerscope/minerscope/analysis"
	"strings"
	"time"

	"github.com/btcsuite/btcd/wire"
)

type wireHeader = wire.BlockHeader

func isoTimeUTC(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func contains(s, sub string) bool { return strings.Contains(s, sub) }

type coinbaseRecord = analysis.CoinbaseRecord
