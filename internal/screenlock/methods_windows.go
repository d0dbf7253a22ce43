package screenlock

// platformMethods returns the Windows lock method.
func platformMethods() []candidate {
	return []candidate{{"rundll32.exe", "user32.dll,LockWorkStation"}}
}
