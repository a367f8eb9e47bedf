package analysis

// ScriptAddress returns the address of an output script encoded for the
// network ("" when the script has no single address: OP_RETURN, bare
// multisig, nonstandard) and its type, named as CoinbaseOutput.Type.
func ScriptAddress(p Params, script []byte) (address, scriptType string) {
	out := describeOutput(p, 0, script)
	return out.Address, out.Type
}
