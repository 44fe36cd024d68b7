"""Roster import: files → checked rows → one transaction of set-based upserts → a report."""
