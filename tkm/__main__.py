from tkm.cli import main

main()
