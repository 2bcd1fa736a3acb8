"""Model monitoring on what the endpoint captured: captured traffic read back (``traffic``), feedback
joined to it (``feedback``), a baseline per model (``baseline``) in Model Monitor's files
(``statistics_file``, ``constraints_file``, with ``kll`` sketches of ``features``) and bands of its
own, checks of the traffic against both (``violations``, ``drift``), and the run with its report
(``monitor``, ``report``)."""
