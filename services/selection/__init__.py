"""Selection: eligibility, préfecture opinion, committee, decision, convention."""
