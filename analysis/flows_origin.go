package analysis

// MinerOrigin returns the origin whose miner inputs at level (0 or 1) hold
// the most value, the lowest on a tie, or -1 when no input is a miner output
// at that level: the Origin ClassifyTx gives, from the inputs alone.
func MinerOrigin(level int, ins []FlowInput) int32 {
	return mainOrigin(level, ins)
}
