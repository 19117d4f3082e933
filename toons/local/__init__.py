"""The embedded engine: `toons local`."""
