"""SMS templates, the merge-field renderer and the segment/encoding calculator."""
