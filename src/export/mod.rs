//! Streaming CSV export (one file per roster level, KEY/PARENT_KEY) and codebooks.
