"""hikikomori: national reporting pipeline for ひきこもり地域支援センター submissions."""
