"""Names of the secrets the stages read from the environment.

Landing needs the pseudonymisation key and the dashboards check it is set before they
serve, so the name is declared once, here.
"""

KEY_ENV = "CLINICOPS_PSEUDONYM_KEY"
