from tkm.core.domain import Domain

DOMAIN = Domain(name="notifications", tables="tkm.notifications.tables", tasks="tkm.notifications.tasks")
