"""The box-score page: the web page the documents exist for, each render one MongoDB query."""
