package app

// SetImporting replaces the hook around each import of a batch for the length of a test.
func SetImporting(f func(src string) (finished func())) (restore func()) {
	old := importing
	importing = f
	return func() { importing = old }
}
