"""Model monitoring on what the endpoint captured: captured traffic read back (``traffic``), feedback
joined to it (``feedback``), a baseline of the training data (``baseline``), drift checks against its
bands (``drift``) and the report (``report``)."""
