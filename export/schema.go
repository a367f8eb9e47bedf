package export

import (
	"fmt"
	"io"
)

// WriteSchema documents every table as Markdown: per table a heading, its description and a table of its
// columns with their Parquet, DuckDB and Spark types. The README's schema section is this output.
func WriteSchema(w io.Writer) error {
	for i, t := range Tables() {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "**`%s`**: %s\n\n", t.Name, t.Doc)
		fmt.Fprintln(w, "| column | Parquet | DuckDB | Spark | null | meaning |")
		fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- |")
		for _, c := range t.Columns {
			null := ""
			if c.Nullable {
				null = "yes"
			}
			fmt.Fprintf(w, "| `%s` | %s | %s | %s | %s | %s |\n", c.Name, c.Parquet, c.DuckDB, c.Spark, null, c.Doc)
		}
	}
	_, err := fmt.Fprintln(w)
	return err
}
