"""The submission portal (``hikikomori serve``): a Django application where centers upload and follow
their submissions and the ministry follows collection (CONTRACT.md §4).

Nothing happens at import: ``hikikomori.portal.config.setup`` configures Django from
``hikikomori.settings``; modules with Django models are imported only after it.
"""
