"""financing: loan calculations, applications and credit decisions."""
