"""Element and ligand knowledge (pymatgen, mendeleev-free where pymatgen has it, RDKit)."""
